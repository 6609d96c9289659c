package operations

import (
	"math"
	"testing"
	"time"
)

// TestSpreadQuantiles: percentiles read from the buckets (as job_duration_bucket fills them)
// are within a fifth of the true value.
func TestSpreadQuantiles(t *testing.T) {
	bucket := func(d time.Duration) int32 { // job_duration_bucket, in Go
		ms := math.Max(float64(d)/float64(time.Millisecond), 1)
		return int32(math.Min(maxBucket, math.Floor(4*math.Log2(ms))))
	}
	for _, c := range []struct {
		durations []time.Duration
		p50, p95  time.Duration
	}{
		{[]time.Duration{10 * time.Millisecond}, 10 * time.Millisecond, 10 * time.Millisecond},
		{[]time.Duration{time.Second, time.Second, time.Second, 30 * time.Second}, time.Second, 30 * time.Second},
		{[]time.Duration{0, 0, 0, 0}, time.Millisecond, time.Millisecond},
	} {
		var h histogram
		for _, d := range c.durations {
			h = append(h, bucketCount{bucket(d), 1})
		}
		var s spread
		s.add(h)
		f := s.figures()
		for _, q := range []struct{ got, want time.Duration }{{f.P50, c.p50}, {f.P95, c.p95}} {
			if ratio := float64(q.got) / float64(q.want); !f.Known || ratio < 0.8 || ratio > 1.25 {
				t.Errorf("%v: got %s, want about %s", c.durations, q.got, q.want)
			}
		}
	}
	var empty spread
	if f := empty.figures(); f.Known {
		t.Errorf("no durations: %+v", f)
	}
}
