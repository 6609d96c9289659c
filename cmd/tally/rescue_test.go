package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"tally/internal/testdb"
)

// A worker killed mid-payout (kill -9, a lost host) leaves its job running in the database.
// Another worker's rescuer runs it again after TALLY_RESCUE_AFTER, and the partner, which
// already paid, answers the retry without paying twice.
func TestKilledWorkersPayoutIsRescued(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	// The partner pays at once and holds its answer back: the worker dies waiting for it.
	sim := startPartner(t, "-timeout-rate", "1", "-hang", "60s")
	doomed := startWorker(t, pool, sim, "TALLY_PARTNER_TIMEOUT=30s")

	id := insertPayout(t, pool, 201)
	sim.waitPayout(t, 201, 30*time.Second)
	doomed.signal(t, syscall.SIGKILL)
	doomed.exit(t, 10*time.Second) //nolint:errcheck // killed: the exit is an error
	waitJob(t, pool, id, time.Second, "left running", inState(rivertype.JobStateRunning))

	sim.setFaults(t, `{"timeout_rate": 0}`)
	// A payout may run 1s + 5s here, and the other jobs 2s: rescue after 6s.
	startWorker(t, pool, sim, "TALLY_PARTNER_TIMEOUT=1s", "TALLY_JOB_TIMEOUT=2s", "TALLY_RESCUE_AFTER=6s")
	// Up to 15s for the new worker to lead (the dead one's term runs out), then the rescuer
	// and the retry; River's rescuer looks every 30s.
	job := waitJob(t, pool, id, 90*time.Second, "completed", inState(rivertype.JobStateCompleted))

	if len(job.Errors) != 1 || !strings.Contains(job.Errors[0].Error, "rescued") {
		t.Errorf("errors: %v; want the rescue's", job.Errors)
	}
	p := sim.payouts(t)
	if len(p) != 1 || p[0].ReservationID != 201 || p[0].Requests != 2 {
		t.Errorf("payouts at the partner: %+v; want one, asked for twice", p)
	}

	// The partner counts payouts, not requests: another reservation's is a second one.
	other := insertPayout(t, pool, 202)
	waitJob(t, pool, other, 30*time.Second, "completed", inState(rivertype.JobStateCompleted))
	if p := sim.payouts(t); len(p) != 2 || p[1].ReservationID != 202 || p[1].Requests != 1 {
		t.Errorf("payouts at the partner: %+v; want reservation 201's and 202's", p)
	}
}
