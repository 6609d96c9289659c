package jobs_test

import (
	"context"
	"strings"
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

const wait = 15 * time.Second

func TestWorkersAgainstPartner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	svc := fixture.Service(t, pool)
	sim, url := fixture.Partner(t)
	workers := fixture.Workers(t, pool, svc, url)

	insert := func(args river.JobArgs, opts *river.InsertOpts) int64 {
		t.Helper()
		res, err := workers.Insert(ctx, args, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res.Job.ID
	}
	payoutsFor := func(reservationID int64) []partnersim.Payout {
		var out []partnersim.Payout
		for _, p := range sim.Payouts() {
			if p.ReservationID == reservationID {
				out = append(out, p)
			}
		}
		return out
	}

	t.Run("a settle's payout reaches the partner once, even when the job runs twice", func(t *testing.T) {
		staff := fixture.User(t, pool, "kim@example.com", tally.RoleStaff)
		actor := reservations.Actor{ID: staff.ID, Email: staff.Email}
		slot, customer := fixture.Slot(t, pool, 10, 4000), fixture.Customer(t, pool)
		out, err := svc.Reserve(ctx, actor, "payout-test-1", reservations.NewReservation{SlotID: slot.ID, CustomerID: customer.ID, Seats: 2})
		if err != nil {
			t.Fatal(err)
		}
		id := out.Reservation.ID
		if _, err := svc.Approve(ctx, actor, "payout-test-2", id); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Settle(ctx, actor, "payout-test-3", id); err != nil {
			t.Fatal(err)
		}
		list, err := workers.JobList(ctx, river.NewJobListParams().Kinds("partner_payout").Metadata(jobs.ReservationMetadata(id)))
		if err != nil || len(list.Jobs) != 1 {
			t.Fatalf("payout jobs: %d, %v", len(list.Jobs), err)
		}
		job := fixture.WaitJob(t, workers, list.Jobs[0].ID, wait, rivertype.JobStateCompleted)
		if _, err := workers.JobRetry(ctx, job.ID); err != nil { // run it again, as after a crash
			t.Fatal(err)
		}
		fixture.WaitJob(t, workers, job.ID, wait, rivertype.JobStateCompleted)
		p := payoutsFor(id)
		if len(p) != 1 || p[0].Requests != 2 || p[0].AmountCents != 8000-reservations.Fee(8000, 290) {
			t.Errorf("payouts at the partner: %+v; want one, asked for twice, of 8000 less the fee", p)
		}
	})

	t.Run("a lost response is retried and still pays once", func(t *testing.T) {
		sim.SetFaults(partnersim.Faults{TimeoutRate: 1, Hang: 3 * time.Second})
		id := insert(jobs.PartnerPayoutArgs{ReservationID: 9001, AmountCents: 500, Currency: "EUR"}, nil)
		job := fixture.WaitJobUntil(t, workers, id, wait, "failed once", func(j *rivertype.JobRow) bool { return len(j.Errors) > 0 })
		if !strings.Contains(job.Errors[0].Error, "Timeout") {
			t.Errorf("attempt error: %+v", job.Errors)
		}
		sim.SetFaults(partnersim.Faults{}) // the partner answers again: the next retry completes
		fixture.WaitJob(t, workers, id, wait, rivertype.JobStateCompleted)
		if p := payoutsFor(9001); len(p) != 1 || p[0].Requests < 2 {
			t.Errorf("payouts: %+v; want one, asked for more than once", p)
		}
	})

	t.Run("5xx is retried with the error recorded", func(t *testing.T) {
		sim.SetFaults(partnersim.Faults{Outage: true})
		defer sim.SetFaults(partnersim.Faults{})
		id := insert(jobs.PartnerPayoutArgs{ReservationID: 9002, AmountCents: 500, Currency: "EUR"}, nil)
		job := fixture.WaitJobUntil(t, workers, id, wait, "failed twice", func(j *rivertype.JobRow) bool { return len(j.Errors) >= 2 })
		if job.State == rivertype.JobStateDiscarded || job.State == rivertype.JobStateCancelled {
			t.Errorf("gave up after %d attempts: %s", job.Attempt, job.State)
		}
		if job.Attempt < len(job.Errors) || job.Attempt > len(job.Errors)+1 {
			t.Errorf("attempt %d, errors %+v: want one error per attempt", job.Attempt, job.Errors)
		}
		for _, e := range job.Errors {
			if !strings.Contains(e.Error, "503 partner outage") {
				t.Errorf("attempt %d error %q", e.Attempt, e.Error)
			}
		}
		if len(payoutsFor(9002)) != 0 {
			t.Error("a refused payout was recorded")
		}
	})

	t.Run("4xx cancels the job with the reason", func(t *testing.T) {
		sim.SetFaults(partnersim.Faults{Reject: true})
		defer sim.SetFaults(partnersim.Faults{})
		id := insert(jobs.NotifyCustomerArgs{ReservationID: 9003, Event: jobs.EventApproved, CustomerEmail: "c@example.com"}, nil)
		job := fixture.WaitJob(t, workers, id, wait, rivertype.JobStateCancelled)
		if job.Attempt != 1 || !strings.Contains(job.Errors[len(job.Errors)-1].Error, "account is closed") {
			t.Errorf("attempt %d, errors %+v", job.Attempt, job.Errors)
		}
	})

	t.Run("exhausted attempts are discarded", func(t *testing.T) {
		sim.SetFaults(partnersim.Faults{Outage: true})
		defer sim.SetFaults(partnersim.Faults{})
		id := insert(jobs.NotifyCustomerArgs{ReservationID: 9004, Event: jobs.EventRejected, CustomerEmail: "c@example.com"},
			&river.InsertOpts{MaxAttempts: 1, Queue: jobs.QueuePartner})
		job := fixture.WaitJob(t, workers, id, wait, rivertype.JobStateDiscarded)
		if len(job.Errors) != 1 {
			t.Errorf("errors %+v", job.Errors)
		}
	})

	t.Run("max attempts per kind", func(t *testing.T) {
		if o := (jobs.NotifyCustomerArgs{}).InsertOpts(); o.MaxAttempts != 5 {
			t.Errorf("notify_customer max attempts %d, want 5", o.MaxAttempts)
		}
		if o := (jobs.PartnerPayoutArgs{}).InsertOpts(); o.MaxAttempts != 10 {
			t.Errorf("partner_payout max attempts %d, want 10", o.MaxAttempts)
		}
	})
}

func TestPurgeRemovesOnlyWhatIsOld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	_, url := fixture.Partner(t)
	workers := fixture.Workers(t, pool, fixture.Service(t, pool), url)
	u := fixture.User(t, pool, "kim@example.com", tally.RoleStaff)
	for _, sql := range []string{
		"INSERT INTO sessions (token, data, expiry) VALUES ('old', '', now() - interval '1 minute'), ('live', '', now() + interval '1 hour')",
		"INSERT INTO login_attempts (email, ip, succeeded, attempted_at) VALUES ('a', 'b', false, now() - interval '2 days'), ('a', 'b', false, now())",
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (actor_id, key, fingerprint, outcome, created_at)
		VALUES ($1, 'old-key-123', 'f', '{}', now() - interval '25 hours'), ($1, 'new-key-123', 'f', '{}', now())`, u.ID); err != nil {
		t.Fatal(err)
	}
	res, err := workers.Insert(ctx, jobs.PurgeArgs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fixture.WaitJob(t, workers, res.Job.ID, wait, rivertype.JobStateCompleted)
	for table, want := range map[string]int{"sessions": 1, "login_attempts": 1, "idempotency_keys": 1} {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s: %d rows left, want %d", table, n, want)
		}
	}
}

func TestTimeoutsAndRescue(t *testing.T) {
	t.Parallel()
	def := jobs.Config{}.WithDefaults()
	if got := def.PartnerJobTimeout(); got != 15*time.Second {
		t.Errorf("a partner job may run %s; want the call's 10s and 5s more", got)
	}
	// River's own default is an hour: a killed worker's payout would wait that long.
	if def.RescueAfter != 2*time.Minute {
		t.Errorf("rescue after %s by default; want the longest timeout (1m) plus 1m", def.RescueAfter)
	}
	if got := (jobs.Config{PartnerTimeout: time.Minute}).WithDefaults().RescueAfter; got != 2*time.Minute+5*time.Second {
		t.Errorf("rescue after %s with a 1m partner timeout; want 2m5s", got)
	}

	// The client is built without reaching the database.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	_, err = jobs.NewWorkerClient(pool, jobs.Config{PartnerTimeout: time.Second, JobTimeout: 2 * time.Second, RescueAfter: 5 * time.Second}, nil)
	if err == nil || !strings.Contains(err.Error(), "shorter than the longest job timeout, 6s") {
		t.Errorf("a rescue sooner than a payout may run: %v", err)
	}
	if _, err := jobs.NewWorkerClient(pool, jobs.Config{PartnerTimeout: time.Second, JobTimeout: 2 * time.Second, RescueAfter: 6 * time.Second}, nil); err != nil {
		t.Errorf("a rescue right after the longest timeout: %v", err)
	}
}
