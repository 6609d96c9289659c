package views

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func statusTitle(status int) string {
	switch status {
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusNotFound:
		return "Not found"
	case http.StatusTooManyRequests:
		return "Slow down"
	case http.StatusInternalServerError:
		return "Something went wrong"
	}
	return http.StatusText(status)
}

func itoa[T ~int | ~int32 | ~int64](n T) string { return fmt.Sprint(n) }

// NewKey mints an idempotency key for one form or button, at render time.
func NewKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// actionVals is the hx-vals of a row action: a fresh key, and that the answer is a row.
func actionVals() string { return `{"idempotency_key": "` + NewKey() + `", "view": "row"}` }

// Times are shown in UTC, with the zone said: per time, or once in a column's header (then
// formatClock). Dates are ISO (2026-01-31), as the date fields take them.

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// formatClock is a time in a column whose header says UTC.
func formatClock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// SlotName names a slot by its resource and start: "Grand Hall at 2026-11-26 14:00 UTC".
func SlotName(resource string, startsAt time.Time) string {
	return resource + " at " + formatTime(startsAt)
}

// formatCount writes n with thousands separators: 312,456.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Count is a number of reservations as far as it was counted: exactly N, more than N
// (AtLeast), about N (About, an estimate), or not known (Unknown: too many to count quickly).
type Count struct {
	N       int64
	AtLeast bool
	About   bool
	Unknown bool
}

// Short is the count for a tab: "1,234", "10,000+", "≈312,000", or nothing.
func (c Count) Short() string {
	switch {
	case c.Unknown:
		return ""
	case c.AtLeast:
		return formatCount(c.N) + "+"
	case c.About:
		return "≈" + formatCount(roughly(c.N))
	}
	return formatCount(c.N)
}

// Long is the count in a sentence: "1,234", "more than 10,000", "about 312,000", "many".
func (c Count) Long() string {
	switch {
	case c.Unknown:
		return "many"
	case c.AtLeast:
		return "more than " + formatCount(c.N)
	case c.About:
		return "about " + formatCount(roughly(c.N))
	}
	return formatCount(c.N)
}

// roughly rounds an estimate to its first three digits: 312,456 is about 312,000.
func roughly(n int64) int64 {
	unit := int64(1)
	for n/unit >= 1000 {
		unit *= 10
	}
	return (n + unit/2) / unit * unit
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatTime(*t)
}
