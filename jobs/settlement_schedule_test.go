package jobs

import (
	"testing"
	"time"
)

// The report runs every day at 00:10 UTC, whatever the zone of the clock that asks.
func TestDailyReportSchedule(t *testing.T) {
	t.Parallel()
	s := daily{reportTime}
	paris := time.FixedZone("CET", 3600)
	for now, want := range map[time.Time]time.Time{
		time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC):     time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC):    time.Date(2026, 3, 2, 0, 10, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC): time.Date(2027, 1, 1, 0, 10, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 0, 30, 0, 0, paris):       time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC), // 23:30 UTC the day before
	} {
		if got := s.Next(now); !got.Equal(want) {
			t.Errorf("after %s: %s, want %s", now, got, want)
		}
	}
}
