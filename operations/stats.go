package operations

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"tally/queries"
)

// The charts are drawn from river_job's own timestamps, minute by minute. A day of a busy
// table is a million rows, too many to read every few seconds; but a minute that has passed
// does not change any more (the jobs of that minute are finished), so each process reads a
// minute once, keeps it (a few rows per kind), and afterwards reads only the minutes since.
// River deletes finished jobs after a day by default; the minutes kept here outlive them.

// settleDelay is how long after a minute ends its figures are taken as final: River's
// completer writes a finished job's row a moment after the job finished.
const settleDelay = 15 * time.Second

// minuteStat is one kind's figures for one minute.
type minuteStat struct {
	completed, cancelled, discarded, failed int64
	run, wait                               histogram
}

// histogram counts durations per bucket of job_duration_bucket (migration 00006): four
// buckets per doubling from a millisecond.
type histogram map[int32]int64

func (h histogram) add(o histogram) {
	for b, n := range o {
		h[b] += n
	}
}

// quantile is the duration below which share q of the counted durations lie, to the
// precision of a bucket (the bucket's geometric middle); 0 when nothing was counted.
func (h histogram) quantile(q float64) time.Duration {
	var total int64
	buckets := make([]int32, 0, len(h))
	for b, n := range h {
		total += n
		buckets = append(buckets, b)
	}
	if total == 0 {
		return 0
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i] < buckets[j] })
	want := int64(math.Ceil(q * float64(total)))
	var seen int64
	for _, b := range buckets {
		seen += h[b]
		if seen >= want {
			ms := math.Pow(2, (float64(b)+0.5)/4)
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return 0
}

type minuteCache struct {
	mu      sync.Mutex // held while reading the database: concurrent pages wait and share
	settled time.Time  // every minute before this is in minutes
	minutes map[time.Time]map[string]*minuteStat
}

func newMinuteCache() *minuteCache {
	return &minuteCache{minutes: map[time.Time]map[string]*minuteStat{}}
}

// window returns the figures per minute and kind of the day up to now: the minutes kept, and
// those since read again.
func (s *Service) window(ctx context.Context, now time.Time) (map[time.Time]map[string]*minuteStat, error) {
	c := s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	dayStart := now.Truncate(time.Minute).Add(-24*time.Hour + time.Minute)
	boundary := now.Add(-settleDelay).Truncate(time.Minute)
	from := dayStart
	if c.settled.After(from) {
		from = c.settled
	}
	rows, err := s.q.RiverJobMinutes(ctx, queries.RiverJobMinutesParams{Since: from, Until: now.Add(time.Minute)})
	if err != nil {
		return nil, err
	}
	out := map[time.Time]map[string]*minuteStat{}
	for m, kinds := range c.minutes {
		if m.Before(dayStart) {
			delete(c.minutes, m)
			continue
		}
		out[m] = kinds
	}
	fresh := map[time.Time]map[string]*minuteStat{}
	for _, r := range rows {
		m := r.Minute.UTC()
		target := fresh
		if m.Before(boundary) {
			target = c.minutes
		}
		kinds := target[m]
		if kinds == nil {
			kinds = map[string]*minuteStat{}
			target[m] = kinds
		}
		st := kinds[r.Kind]
		if st == nil {
			st = &minuteStat{run: histogram{}, wait: histogram{}}
			kinds[r.Kind] = st
		}
		switch r.Measure {
		case StateCompleted:
			st.completed += r.Jobs
		case StateCancelled:
			st.cancelled += r.Jobs
		case StateDiscarded:
			st.discarded += r.Jobs
		case "failed":
			st.failed += r.Jobs
		case "run":
			st.run[r.Bucket] += r.Jobs
		case "wait":
			st.wait[r.Bucket] += r.Jobs
		}
		if m.Before(boundary) {
			out[m] = kinds
		}
	}
	if boundary.After(c.settled) {
		c.settled = boundary
	}
	for m, kinds := range fresh {
		out[m] = kinds
	}
	return out, nil
}

// Window is one kind's throughput and latency over a span of time, in Points of Step each.
type Window struct {
	Span, Step time.Duration
	Points     []Point
	// Completed and Failed are the totals over the span: jobs completed, attempts failed.
	Completed, Failed int64
	// Discarded and Cancelled are the jobs that ended so over the span.
	Discarded, Cancelled int64
	// Run and Wait are the spreads of the last run's time and the queue wait over the span.
	Run, Wait Spread
}

// Point is one step of a Window.
type Point struct {
	At time.Time
	// CompletedPerMin and FailedPerMin are rates over the step.
	CompletedPerMin, FailedPerMin float64
	Run, Wait                     Spread
}

// Spread is the median and 95th percentile of durations; Known is false when none ended.
type Spread struct {
	P50, P95 time.Duration
	Known    bool
}

func spreadOf(h histogram) Spread {
	if len(h) == 0 {
		return Spread{}
	}
	return Spread{P50: h.quantile(0.5), P95: h.quantile(0.95), Known: true}
}

// KindStats is one kind's figures over the last hour and the last day.
type KindStats struct {
	Kind      string
	Hour, Day Window
}

// Throughput returns, per kind, the jobs completed and the attempts failed per minute, and
// the run time and queue wait p50/p95, over the last hour (per minute) and the last day (per
// quarter hour). Run time is the last attempt's, from its start to the job's end; queue wait
// is from when the job was due to when that attempt started. Percentiles are read from
// buckets a fifth of a doubling wide, and said to be approximate.
func (s *Service) Throughput(ctx context.Context) ([]KindStats, error) {
	now := time.Now().UTC()
	minutes, err := s.window(ctx, now)
	if err != nil {
		return nil, err
	}
	kinds := map[string]bool{}
	for _, ks := range minutes {
		for k := range ks {
			kinds[k] = true
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	end := now.Truncate(time.Minute).Add(time.Minute)
	out := make([]KindStats, 0, len(names))
	for _, k := range names {
		out = append(out, KindStats{
			Kind: k,
			Hour: build(minutes, k, end, time.Hour, time.Minute),
			Day:  build(minutes, k, end, 24*time.Hour, 15*time.Minute),
		})
	}
	return out, nil
}

// build sums kind's minutes into steps of step over the span ending at end.
func build(minutes map[time.Time]map[string]*minuteStat, kind string, end time.Time, span, step time.Duration) Window {
	w := Window{Span: span, Step: step}
	allRun, allWait := histogram{}, histogram{}
	perStep := int(step / time.Minute)
	for at := end.Add(-span); at.Before(end); at = at.Add(step) {
		p := Point{At: at}
		run, wait := histogram{}, histogram{}
		var completed, failed int64
		for i := 0; i < perStep; i++ {
			st := minutes[at.Add(time.Duration(i)*time.Minute)][kind]
			if st == nil {
				continue
			}
			completed += st.completed
			failed += st.failed
			w.Discarded += st.discarded
			w.Cancelled += st.cancelled
			run.add(st.run)
			wait.add(st.wait)
		}
		p.CompletedPerMin = float64(completed) / float64(perStep)
		p.FailedPerMin = float64(failed) / float64(perStep)
		p.Run, p.Wait = spreadOf(run), spreadOf(wait)
		w.Completed += completed
		w.Failed += failed
		allRun.add(run)
		allWait.add(wait)
		w.Points = append(w.Points, p)
	}
	w.Run, w.Wait = spreadOf(allRun), spreadOf(allWait)
	return w
}
