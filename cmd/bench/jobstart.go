package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// jobWindow is what one commit → job start measurement saw.
type jobWindow struct {
	commits  int
	window   time.Duration
	waits    []float64 // ms from insert (in the approve's transaction) to start, +Inf if not started
	finished int
	jobsPerS float64
	started  int
	inserted int
	firstErr error
}

// measureJobs approves at rate a second (0: as fast as 8 staff can) for window, then gives
// the notices those approvals inserted wait to start, and reads River's own times for them:
// created_at is the insert, inside the approve's transaction, attempted_at the start.
func (b *bench) measureJobs(ctx context.Context, rate float64, window, wait time.Duration) (jobWindow, error) {
	var w jobWindow
	var before int64
	if err := b.st.pool.QueryRow(ctx, stmt("JobMaxID")).Scan(&before); err != nil {
		return w, err
	}
	var commits atomic.Int64
	var errOnce sync.Once
	fail := func(err error) { errOnce.Do(func() { w.firstErr = err }) }
	start := time.Now()
	if rate > 0 {
		n := int(rate * window.Seconds())
		lo := b.heldLo
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		var wg sync.WaitGroup
		for i := range n {
			<-tick.C
			wg.Go(func() {
				if err := approve(ctx, b.staff[i%len(b.staff)], lo+int64(i)); err != nil {
					fail(err)
					return
				}
				commits.Add(1)
			})
		}
		tick.Stop()
		wg.Wait()
	} else {
		lo := b.heldLo
		res := load(ctx, clients(b.staff, 8), b.pool(), window, func(ctx context.Context, s *session, i int) error {
			return approve(ctx, s, lo+int64(i))
		})
		commits.Add(int64(res.ok))
		if res.firstErr != nil {
			fail(res.firstErr)
		}
	}
	w.window = time.Since(start)
	w.commits = int(commits.Load())
	if err := b.resetHeld(ctx); err != nil {
		return w, err
	}

	deadline := time.Now().Add(wait)
	type job struct{ created, attempted, finalized *time.Time }
	var jobs []job
	for {
		jobs = jobs[:0]
		rows, err := b.st.pool.Query(ctx, stmt("JobsSince"), before)
		if err != nil {
			return w, err
		}
		for rows.Next() {
			var j job
			if err := rows.Scan(&j.created, &j.attempted, &j.finalized); err != nil {
				rows.Close()
				return w, err
			}
			jobs = append(jobs, j)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return w, err
		}
		done := 0
		for _, j := range jobs {
			if j.finalized != nil {
				done++
			}
		}
		if (len(jobs) >= w.commits && done == len(jobs)) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	w.inserted = len(jobs)
	var done []time.Time
	for _, j := range jobs {
		if j.attempted == nil {
			w.waits = append(w.waits, math.Inf(1))
			continue
		}
		w.started++
		w.waits = append(w.waits, float64(j.attempted.Sub(*j.created))/float64(time.Millisecond))
		if j.finalized != nil {
			done = append(done, *j.finalized)
		}
	}
	w.finished = len(done)
	// Throughput is the rate of finishes from the first to the 95th percentile: a pure rate,
	// which neither the jobs' own run time (a slow partner delays every finish alike) nor a
	// straggler at the end stands in for.
	if len(done) > 1 {
		slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
		k := max(int(math.Ceil(0.95*float64(len(done)))), 2)
		if span := done[k-1].Sub(done[0]).Seconds(); span > 0 {
			w.jobsPerS = float64(k-1) / span
		}
	}
	return w, nil
}

// setPartnerLatency sets the simulator's latency through its /control.
func (b *bench) setPartnerLatency(ctx context.Context, d time.Duration) error {
	body := fmt.Sprintf(`{"latency_ms": %d}`, d.Milliseconds())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.st.partnerURL+"/control", bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("partner-sim /control: status %d", resp.StatusCode)
	}
	return nil
}

// jobStartRows: commit → job start at a low rate and at the full approve rate, then both
// again with the partner slowed down (each partner worker then finishes at most one job a
// latency); each with the job throughput against the rate at which the approvals committed.
func (b *bench) jobStartRows(ctx context.Context) []Row {
	var rows []Row
	low := fmt.Sprintf("%.0f approvals/s", b.set.LowRate)
	cases := []struct {
		label   string
		rate    float64
		window  time.Duration
		partner time.Duration
	}{
		{low, b.set.LowRate, b.set.LowWindow, 0},
		{"full approve rate (8 staff)", 0, b.set.FullWindow, 0},
		{fmt.Sprintf("%s, partner latency %s", low, b.set.PartnerLatency), b.set.LowRate, b.set.LowWindow, b.set.PartnerLatency},
		{fmt.Sprintf("full approve rate, partner latency %s", b.set.PartnerLatency), 0, b.set.FullWindow, b.set.PartnerLatency},
	}
	for _, c := range cases {
		figure := "commit → job start, " + c.label
		if c.partner > 0 {
			if err := b.setPartnerLatency(ctx, c.partner); err != nil {
				rows = append(rows, Row{Group: "jobs", Figure: figure, Verdict: errored, Error: err.Error()})
				continue
			}
		}
		w, err := b.measureJobs(ctx, c.rate, c.window, b.set.JobWait)
		if c.partner > 0 {
			if err := b.setPartnerLatency(ctx, 0); err != nil {
				b.step("could not reset the partner's latency: %v", err)
			}
		}
		if err != nil {
			rows = append(rows, Row{Group: "jobs", Figure: figure, Verdict: errored, Error: err.Error()})
			continue
		}
		p50, p99 := median(w.waits), quantile(w.waits, 0.99)
		r := Row{Group: "jobs", Figure: figure, Value: fmt.Sprintf("p50 %s / p99 %s ms", fmtMS(p50), fmtMS(p99)),
			Target: "p50 < 50 / p99 < 250 ms", Verdict: verdict(p50 < 50 && p99 < 250),
			Data: map[string]float64{"p50_ms": p50, "p99_ms": p99, "commits": float64(w.commits), "jobs": float64(w.inserted),
				"started": float64(w.started), "finished": float64(w.finished)}}
		r.Note = fmt.Sprintf("%d approvals in %.1f s, %d notices inserted, %d started and %d finished within %s after",
			w.commits, w.window.Seconds(), w.inserted, w.started, w.finished, b.set.JobWait)
		if w.started < w.inserted {
			r.Note += " (those not started count as never)"
		}
		if w.firstErr != nil {
			r.Note += "; first failed approval: " + w.firstErr.Error()
		}
		if c.partner > 0 { // no target of its own: it shows what a slow partner does
			r.Target, r.Verdict = "", info
		}
		rows = append(rows, r)

		rate := float64(w.commits) / w.window.Seconds()
		t := Row{Group: "jobs", Figure: "job throughput vs commit rate, " + c.label,
			Value: fmt.Sprintf("%.1f jobs/s", w.jobsPerS), Reference: fmt.Sprintf("%.1f commits/s", rate),
			Target: "≥ 0.95 (keeps pace)", Data: map[string]float64{"jobs_per_s": w.jobsPerS, "commits_per_s": rate}}
		if rate > 0 {
			t.Ratio = w.jobsPerS / rate
			t.Verdict = verdict(t.Ratio >= 0.95)
		} else {
			t.Verdict = errored
		}
		if c.partner > 0 {
			t.Target, t.Verdict = "", info
		}
		if len(rows) == 1 {
			t.Note = "notices finished a second, from the first finish to the 95th percentile's; commits a second over the window"
		}
		rows = append(rows, t)
	}
	return rows
}
