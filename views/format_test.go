package views

import (
	"testing"
	"time"
)

func TestCounts(t *testing.T) {
	for _, c := range []struct {
		count       Count
		short, long string
	}{
		{Count{N: 0}, "0", "0"},
		{Count{N: 1234}, "1,234", "1,234"},
		{Count{N: 1234567}, "1,234,567", "1,234,567"},
		{Count{N: 10_000, AtLeast: true}, "10,000+", "more than 10,000"},
		{Count{N: 312_456, About: true}, "≈312,000", "about 312,000"},
		{Count{N: 16_999, About: true}, "≈17,000", "about 17,000"},
		{Count{N: 999_999_999, About: true}, "≈1,000,000,000", "about 1,000,000,000"},
		{Count{Unknown: true}, "", "many"},
	} {
		if got := c.count.Short(); got != c.short {
			t.Errorf("%+v Short = %q, want %q", c.count, got, c.short)
		}
		if got := c.count.Long(); got != c.long {
			t.Errorf("%+v Long = %q, want %q", c.count, got, c.long)
		}
	}
}

func TestShowing(t *testing.T) {
	rows := make([]ReservationRow, 50)
	for _, c := range []struct {
		l    ReservationList
		want string
	}{
		{ReservationList{Rows: rows, Start: 51, Matching: Count{N: 312_456, About: true}}, "Showing 51–100 of about 312,000"},
		{ReservationList{Rows: rows[:7], Start: 1, Matching: Count{N: 7}}, "Showing 1–7 of 7"},
		{ReservationList{Rows: rows, Matching: Count{N: 10_000, AtLeast: true}}, "Showing 50 of more than 10,000"},
		{ReservationList{Rows: rows, Start: 101, Matching: Count{Unknown: true}}, "Showing 101–150"},
		{ReservationList{}, "Nothing to show."},
	} {
		if got := showing(c.l); got != c.want {
			t.Errorf("showing = %q, want %q", got, c.want)
		}
	}
}

func TestTimesSayUTC(t *testing.T) {
	at := time.Date(2026, 11, 26, 15, 0, 0, 0, time.FixedZone("CET", 3600))
	if got := formatTime(at); got != "2026-11-26 14:00 UTC" {
		t.Errorf("formatTime = %q", got)
	}
	if got := SlotName("Grand Hall", at); got != "Grand Hall at 2026-11-26 14:00 UTC" {
		t.Errorf("SlotName = %q", got)
	}
	if got := formatClock(at); got != "2026-11-26 14:00" {
		t.Errorf("formatClock = %q", got)
	}
}
