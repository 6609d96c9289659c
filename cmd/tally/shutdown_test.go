package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"tally/internal/testdb"
)

// SIGTERM (a deploy, a scale-down) lets the payout in flight finish: the partner pays once,
// answers, and the job is completed before the worker exits cleanly.
func TestWorkerFinishesPayoutOnSIGTERM(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	// The partner pays at once and answers 3 s later: the worker is waiting on it.
	sim := startPartner(t, "-timeout-rate", "1", "-hang", "3s")
	worker := startWorker(t, pool, sim)

	id := insertPayout(t, pool, 101)
	sim.waitPayout(t, 101, 30*time.Second)
	worker.signal(t, syscall.SIGTERM)
	if err := worker.exit(t, 30*time.Second); err != nil {
		t.Fatalf("worker exit: %v", err)
	}

	job := waitJob(t, pool, id, time.Second, "completed", inState(rivertype.JobStateCompleted))
	if len(job.Errors) != 0 {
		t.Errorf("errors: %v", job.Errors)
	}
	if p := sim.payouts(t); len(p) != 1 || p[0].Requests != 1 {
		t.Errorf("payouts at the partner: %+v; want one, asked for once", p)
	}
}

// A job that outlasts TALLY_SHUTDOWN_TIMEOUT is cancelled, not left running: the worker
// exits, River puts the job back to be worked again at once, and the next worker's retry
// pays nothing twice.
func TestWorkerCancelsPayoutAfterShutdownTimeout(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	sim := startPartner(t, "-timeout-rate", "1", "-hang", "60s")
	worker := startWorker(t, pool, sim, "TALLY_SHUTDOWN_TIMEOUT=1s", "TALLY_PARTNER_TIMEOUT=30s")

	id := insertPayout(t, pool, 102)
	sim.waitPayout(t, 102, 30*time.Second)
	began := time.Now()
	worker.signal(t, syscall.SIGTERM)
	if err := worker.exit(t, 20*time.Second); err != nil {
		t.Fatalf("worker exit: %v", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("the worker took %s to stop, with a shutdown timeout of 1s", took)
	}
	if !strings.Contains(worker.out.String(), "cancelling them") {
		t.Error("the worker did not say it cancelled running jobs")
	}
	waitJob(t, pool, id, time.Second, "available or retryable", func(j *rivertype.JobRow) bool {
		return j.State == rivertype.JobStateAvailable || j.State == rivertype.JobStateRetryable
	})

	sim.setFaults(t, `{"timeout_rate": 0}`)
	startWorker(t, pool, sim)
	waitJob(t, pool, id, 60*time.Second, "completed", inState(rivertype.JobStateCompleted))
	if p := sim.payouts(t); len(p) != 1 || p[0].Requests != 2 {
		t.Errorf("payouts at the partner: %+v; want one, asked for twice", p)
	}
}

// The web console stops on SIGTERM too, and exits cleanly.
func TestServeStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	sim := startPartner(t)
	p := start(t, []string{"DATABASE_URL=" + pool.Config().ConnString(), "TALLY_PARTNER_URL=" + sim.url}, "serve", "-addr", "127.0.0.1:0")
	p.waitOutput(t, regexp.MustCompile(`Tally is running at (\S+)`), 60*time.Second)
	p.signal(t, syscall.SIGTERM)
	if err := p.exit(t, 30*time.Second); err != nil {
		t.Fatalf("serve exit: %v", err)
	}
	if !strings.Contains(p.out.String(), "stopped") {
		t.Error("serve did not log its stop")
	}
}
