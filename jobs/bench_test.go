package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
)

// The benchmarks work every job they insert, in either configuration, and leave none behind.
// (Their speed is for `make bench`, not for a test.)
func TestBenchNoopWorksEveryJob(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := testdb.New(t)
	inserter := fixture.Inserter(t, pool)
	for _, tc := range []struct {
		name  string
		tally *jobs.Config
	}{{"River's benchmark configuration", nil}, {"Tally's configuration", &jobs.Config{}}} {
		perSec, err := jobs.BenchNoop(ctx, pool, 1_200, 20, tc.tally)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if perSec <= 0 {
			t.Errorf("%s: %v jobs/s", tc.name, perSec)
		}
		left, err := inserter.JobList(ctx, river.NewJobListParams().Kinds(jobs.NoopArgs{}.Kind()).States(rivertype.JobStateAvailable, rivertype.JobStateCompleted, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateDiscarded, rivertype.JobStateCancelled))
		if err != nil {
			t.Fatal(err)
		}
		if len(left.Jobs) != 0 {
			t.Errorf("%s: %d bench jobs left behind", tc.name, len(left.Jobs))
		}
	}
}

// Every notice the latency benchmark commits is worked by Tally's workers against the
// partner, and each has a start time.
func TestBenchStartLatencyWaitsForEveryJob(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := testdb.New(t)
	sim, url := fixture.Partner(t)
	fixture.Workers(t, pool, fixture.Service(t, pool), url)
	res, err := jobs.BenchStartLatency(ctx, pool, 200, 60)
	if err != nil {
		t.Fatal(err)
	}
	if res.Jobs != 60 || res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.Throughput <= 0 {
		t.Errorf("result %+v", res)
	}
	if n := len(sim.Notices()); n != 60 {
		t.Errorf("the partner got %d notices; want 60", n)
	}
}
