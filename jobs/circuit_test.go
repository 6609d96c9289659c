package jobs_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
	"tally/partnersim"
)

// soonRetry retries a failed job after a quarter of a second: without a breaker, an outage
// would burn attempts four times a second.
type soonRetry struct{}

func (soonRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(250 * time.Millisecond)
}

// breakerWorkers starts workers whose breaker opens after 3 failures and probes every second.
func breakerWorkers(t *testing.T, pool *pgxpool.Pool, partnerURL string) *jobs.Client {
	t.Helper()
	c, err := jobs.NewWorkerClient(pool, jobs.Config{
		Logger: slog.New(slog.DiscardHandler), PartnerURL: partnerURL, PartnerTimeout: time.Second,
		FetchPoll: 100 * time.Millisecond, RetryPolicy: soonRetry{},
		CircuitOpenFor: time.Second, CircuitFailures: 3,
	}, fixture.Service(t, pool))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Stop(ctx) //nolint:errcheck // best effort at the end of a test
	})
	return c
}

func waitCircuit(t *testing.T, pool *pgxpool.Pool, what string, ok func(jobs.CircuitStatus) bool) jobs.CircuitStatus {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		st, err := jobs.Circuit(context.Background(), pool)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("circuit %+v after %s, want it %s", st, wait, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// attempts sums the attempts the jobs have used (one error each: a snooze records none and
// gives its attempt back), and counts the jobs that snoozed.
func attempts(t *testing.T, c *jobs.Client, ids []int64) (used, snoozes int) {
	t.Helper()
	for _, id := range ids {
		j, err := c.JobGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		used += len(j.Errors)
		if strings.Contains(string(j.Metadata), `"snoozes"`) {
			snoozes++
		}
		if j.State == rivertype.JobStateDiscarded || j.State == rivertype.JobStateCancelled {
			t.Errorf("job %d gave up during the outage: %s after %d attempts", id, j.State, j.Attempt)
		}
	}
	return used, snoozes
}

// During a partner outage the breaker opens and the partner jobs snooze instead of burning
// their attempts; only the probes cost one. A job with one attempt left still fails on its
// probe and is discarded. Once the partner answers, a probe closes the breaker, every job
// completes, and a discarded one completes when retried.
func TestCircuitBreakerDuringOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	sim, url := fixture.Partner(t)

	if st, err := jobs.Circuit(ctx, pool); err != nil || st.State != jobs.CircuitClosed || st.Known {
		t.Fatalf("before any call: %+v, %v; want closed and unknown", st, err)
	}

	sim.SetFaults(partnersim.Faults{Outage: true})
	workers := breakerWorkers(t, pool, url)
	var ids []int64
	for i := range 5 {
		res, err := workers.Insert(ctx, jobs.PartnerPayoutArgs{ReservationID: int64(7100 + i), AmountCents: 1000, Currency: "EUR"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Job.ID)
	}
	res, err := workers.Insert(ctx, jobs.NotifyCustomerArgs{ReservationID: 7200, Event: jobs.EventApproved, CustomerEmail: "c@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, res.Job.ID)

	st := waitCircuit(t, pool, "open", func(s jobs.CircuitStatus) bool { return s.State != jobs.CircuitClosed })
	if st.Failures < 3 || !strings.Contains(st.LastError, "503 partner outage") || st.OpenedAt == nil || !st.Known || st.Worker == "" {
		t.Errorf("open circuit: %+v; want 3 failures or more, the 503, when it opened, and the worker", st)
	}
	if st.State == jobs.CircuitOpen && (st.NextProbeAt == nil || st.NextProbeAt.Sub(*st.OpenedAt) > 2*time.Second) {
		t.Errorf("open circuit: %+v; want the next probe a second after it opened", st)
	}

	// River records a failed attempt when the job's run ends: give the runs that failed as
	// the breaker opened time to be recorded.
	time.Sleep(time.Second)
	before, _ := attempts(t, workers, ids)
	const watch = 3 * time.Second
	time.Sleep(watch)
	after, snoozed := attempts(t, workers, ids)
	// Without the breaker, six jobs retried every 250 ms would use some 70 attempts here.
	// With it, one probe a second: a few.
	if probes := int(watch/time.Second) + 2; after-before > probes {
		t.Errorf("attempts went from %d to %d in %s with the breaker open; want %d probes at most", before, after, watch, probes)
	}
	if snoozed == 0 {
		t.Error("no job snoozed while the breaker was open")
	}

	sim.SetFaults(partnersim.Faults{})
	for _, id := range ids {
		fixture.WaitJob(t, workers, id, wait, rivertype.JobStateCompleted)
	}
	st = waitCircuit(t, pool, "closed", func(s jobs.CircuitStatus) bool { return s.State == jobs.CircuitClosed })
	if st.Failures != 0 || st.OpenedAt != nil || st.NextProbeAt != nil {
		t.Errorf("closed circuit: %+v; want no failures and no probe", st)
	}

	// Jobs with a single attempt: the first run that reaches the partner is their last,
	// whether before the breaker opens or as its probe.
	sim.SetFaults(partnersim.Faults{Outage: true})
	var last []int64
	for i := range 4 {
		res, err := workers.Insert(ctx, jobs.PartnerPayoutArgs{ReservationID: int64(7300 + i), AmountCents: 1000, Currency: "EUR"},
			&river.InsertOpts{Queue: jobs.QueuePartner, MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		last = append(last, res.Job.ID)
	}
	for _, id := range last {
		j := fixture.WaitJob(t, workers, id, wait, rivertype.JobStateDiscarded)
		if len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, "503") {
			t.Errorf("discarded job's errors: %+v; want the partner's 503", j.Errors)
		}
	}
	sim.SetFaults(partnersim.Faults{})
	for _, id := range last { // what the console's retry does
		if _, err := workers.JobRetry(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range last {
		fixture.WaitJob(t, workers, id, wait, rivertype.JobStateCompleted)
	}
	for _, p := range sim.Payouts() {
		if p.Requests != 1 {
			t.Errorf("payout %+v asked for %d times; want once", p, p.Requests)
		}
	}
	if got := len(sim.Payouts()); got != 9 {
		t.Errorf("%d payouts at the partner; want 9", got)
	}
}

// A refusal (4xx) is the partner answering: it does not open the breaker.
func TestCircuitBreakerIgnoresRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	sim, url := fixture.Partner(t)
	sim.SetFaults(partnersim.Faults{Reject: true})
	workers := breakerWorkers(t, pool, url)
	for i := range 5 {
		res, err := workers.Insert(ctx, jobs.NotifyCustomerArgs{ReservationID: int64(7400 + i), Event: jobs.EventApproved, CustomerEmail: "c@example.com"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		fixture.WaitJob(t, workers, res.Job.ID, wait, rivertype.JobStateCancelled)
	}
	if st, err := jobs.Circuit(ctx, pool); err != nil || st.State != jobs.CircuitClosed || st.Failures != 0 {
		t.Errorf("after five refusals: %+v, %v; want closed, no failures", st, err)
	}
}
