package main

import "context"

// noopRow is jobs per second for a no-op kind through Tally's River configuration against
// River's own benchmark shape. It waits for jobs.BenchNoop (being added to jobs/): until it
// exists, the row says so.
func (b *bench) noopRow(_ context.Context) Row {
	return Row{Group: "jobs", Figure: "no-op jobs/s, Tally's River config", Reference: "River's benchmark shape",
		Target: "≥ 0.80", Verdict: pending, Note: "waits for jobs.BenchNoop, which the jobs console work is adding"}
}
