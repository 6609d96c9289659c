package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"tally/jobs"
)

// noopRow is jobs per second for a no-op kind through Tally's River configuration against
// River's own benchmark shape (jobs.BenchNoop: the jobs inserted first, then worked, timed
// from the client's start to the last completion), the same jobs and workers each side,
// alternating, Reps times.
func (b *bench) noopRow(ctx context.Context) Row {
	r := Row{Group: "jobs", Figure: fmt.Sprintf("no-op jobs/s, Tally's River config (%d jobs, %d workers)", b.set.NoopJobs, noopWorkers),
		Target: "≥ 0.80 of River's", Data: map[string]float64{}}
	pcfg, err := pgxpool.ParseConfig(b.st.dbURL)
	if err != nil {
		r.Verdict, r.Error = errored, err.Error()
		return r
	}
	pcfg.MaxConns = 20 // River's producer, completer and notifier, and the inserts
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		r.Verdict, r.Error = errored, err.Error()
		return r
	}
	defer pool.Close()
	var tally, river []float64
	for i := range b.set.Reps {
		t, err := jobs.BenchNoop(ctx, pool, b.set.NoopJobs, noopWorkers, &jobs.Config{})
		if err != nil {
			r.Verdict, r.Error = errored, "Tally's configuration: "+err.Error()
			return r
		}
		rv, err := jobs.BenchNoop(ctx, pool, b.set.NoopJobs, noopWorkers, nil)
		if err != nil {
			r.Verdict, r.Error = errored, "River's benchmark configuration: "+err.Error()
			return r
		}
		tally, river = append(tally, t), append(river, rv)
		r.Data[fmt.Sprintf("tally_%d", i+1)], r.Data[fmt.Sprintf("river_%d", i+1)] = t, rv
	}
	t, rv := median(tally), median(river)
	r.Value = fmt.Sprintf("%.0f jobs/s", t)
	r.Reference = fmt.Sprintf("River's benchmark shape %.0f jobs/s", rv)
	r.Ratio = t / rv
	r.Verdict = verdict(r.Ratio >= 0.80)
	r.Data["tally_jobs_per_s"], r.Data["river_jobs_per_s"], r.Data["ratio"] = t, rv, r.Ratio
	r.Note = fmt.Sprintf("median of %d runs each, alternating; River's side is riverbench's fetch settings (2 ms cooldown, 20 ms poll)", len(tally))
	return r
}

// noopWorkers is the workers of the no-op benchmark, each side.
const noopWorkers = 100
