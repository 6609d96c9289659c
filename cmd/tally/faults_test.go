package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
	"tally/partnersim"
	"tally/reservations"
)

// Two `tally worker` processes on one database: every job runs once, and expire_holds
// running in both at once expires each reservation once — one audit row, one notice at the
// partner, its seats given back once.
func TestTwoWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	sim := startPartner(t)
	startWorker(t, pool, sim)
	startWorker(t, pool, sim)

	// Holds that have expired by the time they are made, on four slots.
	const perSlot, slotCount = 300, 4
	svc := reservations.NewService(pool, fixture.Inserter(t, pool), reservations.Config{HoldFor: time.Millisecond})
	staff := fixture.User(t, pool, "kim@example.com", tally.RoleStaff)
	actor := tally.Actor{ID: staff.ID, Email: staff.Email}
	customer := fixture.Customer(t, pool)
	var slots []int64
	var wg sync.WaitGroup
	errs := make(chan error, slotCount)
	for range slotCount {
		slot := fixture.Slot(t, pool, perSlot, 1000).ID
		slots = append(slots, slot)
		wg.Go(func() {
			for i := range perSlot {
				_, err := svc.Reserve(ctx, actor, fmt.Sprintf("two-workers-%d-%d", slot, i),
					reservations.NewReservation{SlotID: slot, CustomerID: customer.ID, Seats: 1})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Eight expiries at once, and payouts besides, spread over the two workers.
	client := inserter(t, pool)
	var many []river.InsertManyParams
	for range 8 {
		many = append(many, river.InsertManyParams{Args: jobs.ExpireHoldsArgs{}})
	}
	for i := range 100 {
		id := int64(5000 + i)
		many = append(many, river.InsertManyParams{Args: jobs.PartnerPayoutArgs{ReservationID: id, AmountCents: 4200, Currency: "EUR"}, InsertOpts: jobs.ForReservation(id)})
	}
	if _, err := client.InsertMany(ctx, many); err != nil {
		t.Fatal(err)
	}

	const total = perSlot * slotCount
	waitUntil(t, 90*time.Second, "every job finished", func() (bool, string) {
		var unfinished, expired int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')),
			(SELECT count(*) FROM reservations WHERE status = 'expired')`).Scan(&unfinished, &expired); err != nil {
			t.Fatal(err)
		}
		return unfinished == 0 && expired == total, fmt.Sprintf("%d jobs unfinished, %d of %d reservations expired", unfinished, expired, total)
	})

	var expiries, twice, reserved, notices int
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM audit_events WHERE action = 'expire'),
		(SELECT count(*) FROM (SELECT record_id FROM audit_events WHERE action = 'expire' GROUP BY record_id HAVING count(*) > 1) x),
		(SELECT sum(reserved) FROM slots WHERE id = ANY($1)),
		(SELECT count(*) FROM river_job WHERE kind = 'notify_customer')`, slots).Scan(&expiries, &twice, &reserved, &notices); err != nil {
		t.Fatal(err)
	}
	if expiries != total || twice != 0 || reserved != 0 || notices != total {
		t.Errorf("%d expiries audited (%d reservations twice), %d seats still taken, %d notices queued; want %d, none, none, %d",
			expiries, twice, reserved, notices, total, total)
	}

	// Every job ran once: completed at its first attempt, by one worker.
	rows, err := pool.Query(ctx, `SELECT kind, state, attempt, coalesce(array_length(attempted_by, 1), 0), attempted_by[1] FROM river_job`)
	if err != nil {
		t.Fatal(err)
	}
	byWorker, expiriesBy := map[string]int{}, map[string]int{}
	for rows.Next() {
		var kind, state, by string
		var attempt, workers int
		if err := rows.Scan(&kind, &state, &attempt, &workers, &by); err != nil {
			t.Fatal(err)
		}
		if state != "completed" || attempt != 1 || workers != 1 {
			t.Errorf("a %s job is %s after %d attempts by %d workers; want completed at once", kind, state, attempt, workers)
		}
		byWorker[by]++
		if kind == "expire_holds" {
			expiriesBy[by]++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(byWorker) != 2 {
		t.Errorf("jobs per worker: %v; want both workers at work", byWorker)
	}
	t.Logf("expire_holds runs per worker: %v", expiriesBy)

	// One notice per expired reservation and one payout per key, each asked for once.
	delivered := sim.notices(t)
	perReservation := map[int64]int{}
	for _, n := range delivered {
		if n.Event != jobs.EventExpired || n.Requests != 1 {
			t.Errorf("notice %+v; want an expiry, asked for once", n)
		}
		perReservation[n.ReservationID]++
	}
	if len(delivered) != total || len(perReservation) != total {
		t.Errorf("%d notices for %d reservations at the partner; want %d each", len(delivered), len(perReservation), total)
	}
	paid := sim.payouts(t)
	for _, p := range paid {
		if p.Requests != 1 {
			t.Errorf("payout %+v asked for %d times; want once", p, p.Requests)
		}
	}
	if len(paid) != 100 {
		t.Errorf("%d payouts; want 100", len(paid))
	}
}

// A partner outage seen from worker processes: the breaker opens (and the console, another
// process, reads it), attempts stop burning while it is open, and after recovery every job
// completes. Jobs whose attempts run out are discarded, and complete when retried.
func TestPartnerOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	sim := startPartner(t, "-outage")
	startWorker(t, pool, sim, "TALLY_CIRCUIT_OPEN_FOR=4s", "TALLY_PARTNER_TIMEOUT=2s")

	var ids []int64
	for i := range 8 {
		ids = append(ids, insertPayout(t, pool, int64(300+i)))
	}
	var st jobs.CircuitStatus
	waitUntil(t, 30*time.Second, "the breaker open", func() (bool, string) {
		var err error
		if st, err = jobs.Circuit(ctx, pool); err != nil {
			t.Fatal(err)
		}
		return st.State == jobs.CircuitOpen, st.State
	})
	if st.Failures < 5 || !strings.Contains(st.LastError, "503 partner outage") || st.NextProbeAt == nil {
		t.Errorf("open breaker: %+v; want 5 failures or more, the 503 and the next probe", st)
	}

	// One probe every 4s costs an attempt; River's own backoff would retry all eight after 1s.
	time.Sleep(time.Second) // failed runs are recorded as they end
	before, _ := jobErrors(t, pool, ids)
	time.Sleep(5 * time.Second)
	after, snoozed := jobErrors(t, pool, ids)
	if after-before > 2 {
		t.Errorf("errors went from %d to %d in 5s with the breaker open; want the probes' at most (2)", before, after)
	}
	if snoozed == 0 {
		t.Error("no job snoozed while the breaker was open")
	}

	sim.setFaults(t, `{"outage": false}`)
	for _, id := range ids {
		// A job that failed a probe waits out River's backoff (16s after a second failure).
		waitJob(t, pool, id, 60*time.Second, "completed", inState(rivertype.JobStateCompleted))
	}
	waitUntil(t, 30*time.Second, "the breaker closed", func() (bool, string) {
		st, err := jobs.Circuit(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		return st.State == jobs.CircuitClosed && st.Failures == 0, fmt.Sprintf("%+v", st)
	})

	// Two attempts each: the outage uses them up, and the jobs are discarded.
	sim.setFaults(t, `{"outage": true}`)
	client := inserter(t, pool)
	var doomed []int64
	for i := range 3 {
		res, err := client.Insert(ctx, jobs.PartnerPayoutArgs{ReservationID: int64(400 + i), AmountCents: 4200, Currency: "EUR"},
			&river.InsertOpts{Queue: jobs.QueuePartner, MaxAttempts: 2, Metadata: []byte(jobs.ReservationMetadata(int64(400 + i)))})
		if err != nil {
			t.Fatal(err)
		}
		doomed = append(doomed, res.Job.ID)
	}
	for _, id := range doomed {
		j := waitJob(t, pool, id, 30*time.Second, "discarded", inState(rivertype.JobStateDiscarded))
		if len(j.Errors) != 2 {
			t.Errorf("discarded job %d: errors %v; want one per attempt", id, j.Errors)
		}
	}
	sim.setFaults(t, `{"outage": false}`)
	for _, id := range doomed { // what the console's retry does
		if _, err := client.JobRetry(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range doomed {
		waitJob(t, pool, id, 30*time.Second, "completed", inState(rivertype.JobStateCompleted))
	}
	paid := sim.payouts(t)
	for _, p := range paid {
		if p.Requests != 1 {
			t.Errorf("payout %+v asked for %d times; want once: refused calls pay nothing", p, p.Requests)
		}
	}
	if len(paid) != 11 {
		t.Errorf("%d payouts; want 11", len(paid))
	}
}

// jobErrors counts the failed attempts of the jobs (a snooze records none), and the jobs
// that snoozed; a job given up on fails the test.
func jobErrors(t *testing.T, pool *pgxpool.Pool, ids []int64) (failed, snoozed int) {
	t.Helper()
	c := inserter(t, pool)
	for _, id := range ids {
		j, err := c.JobGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		failed += len(j.Errors)
		if strings.Contains(string(j.Metadata), `"snoozes"`) {
			snoozed++
		}
		if j.State == rivertype.JobStateDiscarded || j.State == rivertype.JobStateCancelled {
			t.Errorf("job %d gave up during the outage: %s after %d attempts", id, j.State, j.Attempt)
		}
	}
	return failed, snoozed
}

// waitUntil polls done until it says yes, and fails the test with its last word after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, done func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := done()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s after %s: %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// notices returns the notices the partner has delivered.
func (s partner) notices(t *testing.T) []partnersim.Notice {
	t.Helper()
	res, err := http.Get(s.url + "/notices")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Notices []partnersim.Notice }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Notices
}
