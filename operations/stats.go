package operations

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

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

// maxBucket is the last bucket of job_duration_bucket (migration 00006): 2^40 ms, which is
// more than a job ever runs or waits.
const maxBucket = 160

// histogram counts durations per bucket of job_duration_bucket: four buckets per doubling
// from a millisecond. A minute's are kept sparse (a few buckets each, for a day of minutes);
// they are summed into a spread, which is dense.
type histogram []bucketCount

type bucketCount struct {
	bucket int32
	n      int64
}

// spread sums histograms, bucket by bucket.
type spread [maxBucket + 1]int64

func (s *spread) add(h histogram) {
	for _, c := range h {
		s[min(max(c.bucket, 0), maxBucket)] += c.n
	}
}

func (s *spread) merge(o *spread) {
	for b, n := range o {
		s[b] += n
	}
}

// quantile is the duration below which share q of the counted durations lie, to the
// precision of a bucket (the bucket's geometric middle); 0 when nothing was counted.
func (s *spread) quantile(q float64) time.Duration {
	var total int64
	for _, n := range s {
		total += n
	}
	if total == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(total)))
	var seen int64
	for b, n := range s {
		seen += n
		if seen >= want {
			ms := math.Pow(2, (float64(b)+0.5)/4)
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return 0
}

func (s *spread) figures() Spread {
	p50 := s.quantile(0.5)
	if p50 == 0 {
		return Spread{}
	}
	return Spread{P50: p50, P95: s.quantile(0.95), Known: true}
}

type minuteCache struct {
	mu      sync.Mutex // held while reading the latest minutes: concurrent pages wait and share
	minutes map[time.Time]map[string]*minuteStat
	// Every minute in [from, to) is in minutes; a minute in there is final and never changed.
	from, to time.Time
	// filling is true while a goroutine reads the earlier minutes of the day.
	filling bool
	// fresh are the minutes since to as last read, at freshAt: pages within freshFor of it
	// share them (eight at once would otherwise read them one after the other).
	fresh   map[time.Time]map[string]*minuteStat
	freshAt time.Time
}

// freshFor is how long the latest minutes, still changing, are shared between pages.
const freshFor = time.Second

func newMinuteCache() *minuteCache {
	return &minuteCache{minutes: map[time.Time]map[string]*minuteStat{}}
}

// backfillChunk is how much of the day one statement of the backfill reads.
const backfillChunk = time.Hour

// window returns the figures per minute and kind of the day up to now, and from when on it has
// them all. A process's first call reads the last hour, and leaves the rest of the day to a
// goroutine that reads it an hour at a time (a busy day is a million rows: no page should
// wait for that); later calls read only the minutes since the previous one.
func (s *Service) window(ctx context.Context, now time.Time) (map[time.Time]map[string]*minuteStat, time.Time, error) {
	c := s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	dayStart := now.Truncate(time.Minute).Add(-24*time.Hour + time.Minute)
	boundary := now.Add(-settleDelay).Truncate(time.Minute)
	if c.to.IsZero() || c.to.Before(dayStart) {
		c.minutes = map[time.Time]map[string]*minuteStat{}
		c.from = latest(boundary.Add(-time.Hour), dayStart)
		c.to = c.from
	}
	fresh := c.fresh
	if fresh == nil || now.Sub(c.freshAt) >= freshFor || now.Before(c.freshAt) || boundary.After(c.to) {
		var rows []queries.RiverJobMinutesRow
		err := s.read(ctx, func(q *queries.Queries, _ pgx.Tx) error {
			var err error
			rows, err = q.RiverJobMinutes(ctx, queries.RiverJobMinutesParams{Since: c.to, Until: now.Add(time.Minute)})
			return err
		})
		if err != nil {
			return nil, time.Time{}, err
		}
		fresh = map[time.Time]map[string]*minuteStat{}
		for _, r := range rows {
			target := fresh
			if r.Minute.Before(boundary) {
				target = c.minutes
			}
			add(target, r)
		}
		c.to = latest(c.to, boundary)
		c.fresh, c.freshAt = fresh, now
	}
	for m := range c.minutes {
		if m.Before(dayStart) {
			delete(c.minutes, m)
		}
	}
	c.from = latest(c.from, dayStart)
	if c.from.After(dayStart) && !c.filling {
		c.filling = true
		go s.backfill()
	}
	out := make(map[time.Time]map[string]*minuteStat, len(c.minutes)+len(fresh))
	for m, kinds := range c.minutes {
		out[m] = kinds
	}
	for m, kinds := range fresh {
		out[m] = kinds
	}
	return out, c.from, nil
}

// backfill reads the day's minutes before the cache's first, an hour at a time, each with a
// bounded context of its own: it outlives the page that started it.
func (s *Service) backfill() {
	c := s.stats
	defer func() {
		c.mu.Lock()
		c.filling = false
		c.mu.Unlock()
	}()
	for {
		c.mu.Lock()
		from := c.from
		dayStart := time.Now().Truncate(time.Minute).Add(-24*time.Hour + time.Minute)
		c.mu.Unlock()
		if !from.After(dayStart) {
			return
		}
		start := latest(from.Add(-backfillChunk), dayStart)
		var rows []queries.RiverJobMinutesRow
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := s.read(ctx, func(q *queries.Queries, _ pgx.Tx) error {
			var err error
			rows, err = q.RiverJobMinutes(ctx, queries.RiverJobMinutesParams{Since: start, Until: from})
			return err
		})
		cancel()
		if err != nil {
			s.cfg.Logger.Error("jobs console: reading the day's figures", "err", err, "from", start, "until", from)
			return
		}
		c.mu.Lock()
		if !c.from.Equal(from) { // the cache was started again meanwhile
			c.mu.Unlock()
			return
		}
		for _, r := range rows {
			add(c.minutes, r)
		}
		c.from = start
		c.mu.Unlock()
	}
}

// latest is the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// add counts row r into minutes.
func add(minutes map[time.Time]map[string]*minuteStat, r queries.RiverJobMinutesRow) {
	m := r.Minute.UTC()
	kinds := minutes[m]
	if kinds == nil {
		kinds = map[string]*minuteStat{}
		minutes[m] = kinds
	}
	st := kinds[r.Kind]
	if st == nil {
		st = &minuteStat{}
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
		st.run = append(st.run, bucketCount{r.Bucket, r.Jobs})
	case "wait":
		st.wait = append(st.wait, bucketCount{r.Bucket, r.Jobs})
	}
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
	// Since is when the figures start, later than the span's start while the process is still
	// reading the earlier hours of the day (see Service.Throughput).
	Since time.Time
}

// Partial reports whether the window lacks its earliest figures yet.
func (w Window) Partial() bool { return len(w.Points) > 0 && w.Since.After(w.Points[0].At) }

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

// KindStats is one kind's figures over the last hour and the last day.
type KindStats struct {
	Kind      string
	Hour, Day Window
}

// Throughput returns, per kind, the jobs completed and the attempts failed per minute, and
// the run time and queue wait p50/p95, over the last hour (per minute) and the last day (per
// quarter hour). Run time is the last attempt's, from its start to the job's end; queue wait
// is from when the job was due to when that attempt started. Percentiles are read from
// buckets a quarter of a doubling wide, and said to be approximate. Just after a process
// starts, the day's earlier hours are still being read: Window.Partial says so.
func (s *Service) Throughput(ctx context.Context) ([]KindStats, error) {
	now := time.Now().UTC()
	minutes, since, err := s.window(ctx, now)
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
		ks := KindStats{
			Kind: k,
			Hour: build(minutes, k, end, time.Hour, time.Minute),
			Day:  build(minutes, k, end, 24*time.Hour, 15*time.Minute),
		}
		ks.Hour.Since, ks.Day.Since = since, since
		out = append(out, ks)
	}
	return out, nil
}

// build sums kind's minutes into steps of step over the span ending at end.
func build(minutes map[time.Time]map[string]*minuteStat, kind string, end time.Time, span, step time.Duration) Window {
	w := Window{Span: span, Step: step}
	var allRun, allWait spread
	perStep := int(step / time.Minute)
	for at := end.Add(-span); at.Before(end); at = at.Add(step) {
		p := Point{At: at}
		var run, wait spread
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
		p.Run, p.Wait = run.figures(), wait.figures()
		w.Completed += completed
		w.Failed += failed
		allRun.merge(&run)
		allWait.merge(&wait)
		w.Points = append(w.Points, p)
	}
	w.Run, w.Wait = allRun.figures(), allWait.figures()
	return w
}
