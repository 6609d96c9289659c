package reservations_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/queries"
	"tally/reservations"
)

// env is a test database with a staff user, a slot and a customer.
type env struct {
	t        *testing.T
	pool     *pgxpool.Pool
	svc      *reservations.Service
	staff    reservations.Actor
	slot     queries.Slot
	customer queries.Customer
	keys     int
}

func newEnv(t *testing.T, capacity int32) *env {
	t.Helper()
	pool := testdb.New(t)
	u := fixture.User(t, pool, "kim@example.com", tally.RoleStaff)
	return &env{t: t, pool: pool, svc: fixture.Service(t, pool),
		staff: reservations.Actor{ID: u.ID, Email: u.Email, RequestID: "req-test"},
		slot:  fixture.Slot(t, pool, capacity, 2500), customer: fixture.Customer(t, pool)}
}

func (e *env) key() string {
	e.keys++
	return fmt.Sprintf("test-key-%06d", e.keys)
}

func (e *env) reserve(seats int32) reservations.Reservation {
	e.t.Helper()
	out, err := e.svc.Reserve(context.Background(), e.staff, e.key(), reservations.NewReservation{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: seats})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Reservation
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) reserved() int32 {
	s, err := queries.New(e.pool).SlotGet(context.Background(), e.slot.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return s.Slot.Reserved
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 20)
	type action func(context.Context, reservations.Actor, string, int64) (reservations.Outcome, error)
	approve, reject, cancel, settle := e.svc.Approve, e.svc.Reject, e.svc.Cancel, e.svc.Settle

	// Each case brings a reservation into a state with the steps, then tries the action.
	cases := []struct {
		name    string
		steps   []action
		act     action
		want    string // the status after, or "" when refused
		refusal string // part of the refusal message
		seats   int32  // seats reserved on the slot after
	}{
		{"approve held", nil, approve, "approved", "", 2},
		{"reject held", nil, reject, "rejected", "", 0},
		{"cancel held", nil, cancel, "cancelled", "", 0},
		{"cancel approved", []action{approve}, cancel, "cancelled", "", 0},
		{"settle approved", []action{approve}, settle, "settled", "", 2},
		{"approve approved", []action{approve}, approve, "", "already approved by kim@example.com at", 2},
		{"settle held", nil, settle, "", "still held", 2},
		{"reject approved", []action{approve}, reject, "", "already approved by kim@example.com", 2},
		{"settle settled", []action{approve, settle}, settle, "", "already settled by kim@example.com", 2},
		{"cancel settled", []action{approve, settle}, cancel, "", "already settled", 2},
		{"approve rejected", []action{reject}, approve, "", "rejected by kim@example.com", 0},
		{"approve cancelled", []action{cancel}, approve, "", "cancelled by kim@example.com", 0},
		{"settle cancelled", []action{cancel}, settle, "", "cancelled by", 0},
	}
	for _, c := range cases {
		before := e.reserved()
		r := e.reserve(2)
		for _, step := range c.steps {
			if _, err := step(ctx, e.staff, e.key(), r.ID); err != nil {
				t.Fatalf("%s: setting up: %v", c.name, err)
			}
		}
		audits := e.count("SELECT count(*) FROM audit_events WHERE record_type = 'reservation' AND record_id = $1", r.ID)
		out, err := c.act(ctx, e.staff, e.key(), r.ID)
		if c.want != "" {
			if err != nil || out.Reservation.Status != c.want {
				t.Errorf("%s: got %q, %v; want %s", c.name, out.Reservation.Status, err, c.want)
			}
			if got := e.count("SELECT count(*) FROM audit_events WHERE record_type = 'reservation' AND record_id = $1", r.ID); got != audits+1 {
				t.Errorf("%s: %d new audit rows, want 1", c.name, got-audits)
			}
		} else {
			if tally.ErrorCode(err) != tally.ECONFLICT || !strings.Contains(tally.ErrorMessage(err), c.refusal) {
				t.Errorf("%s: got %v; want a conflict saying %q", c.name, err, c.refusal)
			}
			if got := e.count("SELECT count(*) FROM audit_events WHERE record_type = 'reservation' AND record_id = $1", r.ID); got != audits {
				t.Errorf("%s: a refusal wrote %d audit rows", c.name, got-audits)
			}
		}
		if got := e.reserved() - before; got != c.seats {
			t.Errorf("%s: the slot holds %d more seats, want %d", c.name, got, c.seats)
		}
	}

	t.Run("approving an expired hold names the expiry", func(t *testing.T) {
		r := e.reserve(1)
		if _, err := e.pool.Exec(ctx, "UPDATE reservations SET hold_expires_at = now() - interval '1 minute' WHERE id = $1", r.ID); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Approve(ctx, e.staff, e.key(), r.ID)
		if !strings.Contains(tally.ErrorMessage(err), "hold expired at") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("an unknown reservation is not found", func(t *testing.T) {
		if _, err := e.svc.Approve(ctx, e.staff, e.key(), 999999); tally.ErrorCode(err) != tally.ENOTFOUND {
			t.Errorf("got %v", err)
		}
	})
}

func TestReserveRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 3)
	e.reserve(2)
	try := func(n reservations.NewReservation) error {
		_, err := e.svc.Reserve(ctx, e.staff, e.key(), n)
		return err
	}
	if err := try(reservations.NewReservation{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: 2}); !strings.Contains(tally.ErrorMessage(err), "Only 1 seat left") {
		t.Errorf("too many seats: %v", err)
	}
	e.reserve(1)
	if err := try(reservations.NewReservation{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: 1}); !strings.Contains(tally.ErrorMessage(err), "Sold out") {
		t.Errorf("sold out: %v", err)
	}
	for _, bad := range []reservations.NewReservation{
		{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: 0},
		{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: -3},
		{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: 1000},
		{SlotID: 0, CustomerID: e.customer.ID, Seats: 1},
	} {
		if err := try(bad); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	if _, err := e.pool.Exec(ctx, "UPDATE slots SET starts_at = now() - interval '1 minute', reserved = 0 WHERE id = $1", e.slot.ID); err != nil {
		t.Fatal(err)
	}
	if err := try(reservations.NewReservation{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: 1}); !strings.Contains(tally.ErrorMessage(err), "can no longer be reserved") {
		t.Errorf("a slot that started: %v", err)
	}
	if _, err := e.pool.Exec(ctx, "UPDATE slots SET starts_at = now() + interval '1 day', reserved = 3 WHERE id = $1", e.slot.ID); err != nil {
		t.Fatal(err)
	}
	if err := try(reservations.NewReservation{SlotID: 424242, CustomerID: e.customer.ID, Seats: 1}); tally.ErrorCode(err) != tally.ENOTFOUND {
		t.Errorf("unknown slot: %v", err)
	}
	if err := try(reservations.NewReservation{SlotID: e.slot.ID, CustomerID: 424242, Seats: 1}); tally.ErrorCode(err) != tally.ENOTFOUND {
		t.Errorf("unknown customer: %v", err)
	}
	if got := e.count("SELECT count(*) FROM reservations"); got != 2 {
		t.Errorf("%d reservations, want 2", got)
	}
	if e.reserved() != 3 {
		t.Errorf("reserved = %d, want 3", e.reserved())
	}
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 10)

	t.Run("a sequential replay returns the stored outcome and does nothing", func(t *testing.T) {
		n := reservations.NewReservation{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: 2}
		first, err := e.svc.Reserve(ctx, e.staff, "same-key-reserve", n)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.Reserve(ctx, e.staff, "same-key-reserve", n)
		if err != nil || !again.Replayed || again.Reservation.ID != first.Reservation.ID || again.Message != first.Message {
			t.Fatalf("replay: %+v %v", again, err)
		}
		if got := e.count("SELECT count(*) FROM reservations"); got != 1 {
			t.Errorf("%d reservations after a replay, want 1", got)
		}
		if e.reserved() != 2 {
			t.Errorf("reserved = %d, want 2", e.reserved())
		}
	})

	t.Run("the same key for another request is refused", func(t *testing.T) {
		r := e.reserve(1)
		if _, err := e.svc.Approve(ctx, e.staff, "key-for-approve", r.ID); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Cancel(ctx, e.staff, "key-for-approve", r.ID)
		if tally.ErrorCode(err) != tally.EUNPROCESSABLE {
			t.Errorf("got %v, want unprocessable", err)
		}
		if got, _ := queries.New(e.pool).ReservationGet(ctx, r.ID); got.Status != "approved" {
			t.Errorf("status %s, want approved", got.Status)
		}
	})

	t.Run("keys are per user", func(t *testing.T) {
		other := fixture.User(t, e.pool, "lee@example.com", tally.RoleStaff)
		lee := reservations.Actor{ID: other.ID, Email: other.Email}
		r := e.reserve(1)
		if _, err := e.svc.Approve(ctx, e.staff, "shared-key-1", r.ID); err != nil {
			t.Fatal(err)
		}
		// Lee's request with the same key is Lee's own: it runs, and is refused on its merits.
		_, err := e.svc.Approve(ctx, lee, "shared-key-1", r.ID)
		if !strings.Contains(tally.ErrorMessage(err), "already approved by kim@example.com") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("concurrent requests with one key have one effect", func(t *testing.T) {
		r := e.reserve(1)
		var wg sync.WaitGroup
		results := make([]error, 20)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = e.svc.Approve(ctx, e.staff, "one-key-many-requests", r.ID)
			}()
		}
		wg.Wait()
		inFlight := 0
		for _, err := range results {
			switch {
			case err == nil: // the first, or a replay after it committed
			case tally.ErrorCode(err) == tally.ECONFLICT && strings.Contains(tally.ErrorMessage(err), "already being processed"):
				inFlight++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		if got := e.count("SELECT count(*) FROM audit_events WHERE record_type = 'reservation' AND record_id = $1 AND action = 'approve'", r.ID); got != 1 {
			t.Errorf("%d approvals, want 1", got)
		}
		if got := e.count("SELECT count(*) FROM river_job WHERE kind = 'notify_customer' AND (args->>'reservation_id')::bigint = $1", r.ID); got != 1 {
			t.Errorf("%d notices, want 1", got)
		}
		t.Logf("%d of %d concurrent requests were told the key was in flight", inFlight, len(results))
	})

	t.Run("a request without a key is refused", func(t *testing.T) {
		r := e.reserve(1)
		if _, err := e.svc.Approve(ctx, e.staff, "", r.ID); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("got %v", err)
		}
	})
}

// flakyInserter inserts the job for real and then, at random, fails: the action's
// transaction must then roll back with the job in it.
type flakyInserter struct {
	inner reservations.JobInserter
	mu    sync.Mutex
	rng   *rand.Rand
}

var errInjected = errors.New("injected failure after InsertTx")

func (f *flakyInserter) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := f.inner.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	fail := f.rng.IntN(2) == 0
	f.mu.Unlock()
	if fail {
		return nil, errInjected
	}
	return res, nil
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 100)
	flaky := reservations.NewService(e.pool, &flakyInserter{inner: fixture.Inserter(t, e.pool), rng: rand.New(rand.NewPCG(1, 2))}, reservations.Config{})

	committed, rolledBack := 0, 0
	for i := 0; i < 60; i++ {
		r := e.reserve(1)
		_, err := flaky.Approve(ctx, e.staff, e.key(), r.ID)
		switch {
		case err == nil:
			committed++
		case errors.Is(err, errInjected):
			rolledBack++
			got, _ := queries.New(e.pool).ReservationGet(ctx, r.ID)
			if got.Status != "held" {
				t.Errorf("#%d: rolled back but status is %s", r.ID, got.Status)
			}
		default:
			t.Fatal(err)
		}
	}
	if committed == 0 || rolledBack == 0 {
		t.Fatalf("committed %d, rolled back %d: the test needs both", committed, rolledBack)
	}
	if got := e.count("SELECT count(*) FROM river_job WHERE kind = 'notify_customer'"); got != committed {
		t.Errorf("%d notice jobs for %d committed approvals (%d rolled back)", got, committed, rolledBack)
	}
	if got := e.count("SELECT count(*) FROM audit_events WHERE action = 'approve'"); got != committed {
		t.Errorf("%d approval audit rows for %d committed approvals", got, committed)
	}
	if got := e.count("SELECT count(*) FROM reservations WHERE status = 'approved'"); got != committed {
		t.Errorf("%d approved for %d committed", got, committed)
	}
	// Every approved reservation has its job.
	if got := e.count(`SELECT count(*) FROM reservations r WHERE status = 'approved' AND NOT EXISTS (
		SELECT 1 FROM river_job j WHERE j.kind = 'notify_customer' AND (j.args->>'reservation_id')::bigint = r.id)`); got != 0 {
		t.Errorf("%d approved reservations without their job", got)
	}
}

func TestLedger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 50)
	for i := 0; i < 5; i++ {
		r := e.reserve(int32(i + 1))
		if _, err := e.svc.Approve(ctx, e.staff, e.key(), r.ID); err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.Settle(ctx, e.staff, e.key(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if out.Reservation.SettledAt == nil {
			t.Error("settled_at not set")
		}
	}
	if got := e.count("SELECT count(*) FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING sum(amount_cents) <> 0) x"); got != 0 {
		t.Errorf("%d unbalanced ledger transactions", got)
	}
	if got := e.count("SELECT count(DISTINCT txn_id) FROM ledger_entries"); got != 5 {
		t.Errorf("%d ledger transactions, want 5", got)
	}
	if got := e.count("SELECT count(*) FROM river_job WHERE kind = 'partner_payout'"); got != 5 {
		t.Errorf("%d payout jobs, want 5", got)
	}
	var revenue int64
	if err := e.pool.QueryRow(ctx, "SELECT -sum(amount_cents) FROM ledger_entries WHERE account = 'revenue'").Scan(&revenue); err != nil {
		t.Fatal(err)
	}
	if revenue != 2500*(1+2+3+4+5) {
		t.Errorf("revenue %d, want %d", revenue, 2500*15)
	}

	// A free reservation settles with no postings and no payout.
	free := fixture.Slot(t, e.pool, 5, 0)
	out, err := e.svc.Reserve(ctx, e.staff, e.key(), reservations.NewReservation{SlotID: free.ID, CustomerID: e.customer.ID, Seats: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Approve(ctx, e.staff, e.key(), out.Reservation.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Settle(ctx, e.staff, e.key(), out.Reservation.ID); err != nil {
		t.Errorf("settling a free reservation: %v", err)
	}
	if got := e.count("SELECT count(*) FROM river_job WHERE kind = 'partner_payout'"); got != 5 {
		t.Errorf("%d payout jobs after a free settle, want still 5", got)
	}

	// The database refuses what the code never does: these errors are the point.
	testdb.AllowErrors(t, "23514", "42501")
	r := e.reserve(1)
	_, err = e.pool.Exec(ctx, `INSERT INTO ledger_entries (txn_id, reservation_id, account, amount_cents, currency)
		VALUES (gen_random_uuid(), $1, 'revenue', -100, 'EUR')`, r.ID)
	if err == nil || !strings.Contains(err.Error(), "does not balance") {
		t.Errorf("an unbalanced insert: %v", err)
	}
	if _, err := e.pool.Exec(ctx, "UPDATE ledger_entries SET amount_cents = 1"); err == nil {
		t.Error("ledger entries could be updated")
	}
	if _, err := e.pool.Exec(ctx, "DELETE FROM audit_events"); err == nil {
		t.Error("audit events could be deleted")
	}
}

func TestExpireHolds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 200)
	var due []int64
	for i := 0; i < 120; i++ {
		r := e.reserve(1)
		if i%3 != 0 {
			due = append(due, r.ID)
		}
	}
	if _, err := e.pool.Exec(ctx, "UPDATE reservations SET hold_expires_at = now() - interval '1 second' WHERE id = ANY($1)", due); err != nil {
		t.Fatal(err)
	}
	// Two workers at once, in small batches: SKIP LOCKED keeps them off each other's rows.
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := e.svc.ExpireHolds(ctx, 7)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != len(due) {
		t.Errorf("expired %v, want %d in all", counts, len(due))
	}
	if got := e.count("SELECT count(*) FROM reservations WHERE status = 'expired'"); got != len(due) {
		t.Errorf("%d expired, want %d", got, len(due))
	}
	if got := e.count("SELECT count(*) FROM audit_events WHERE action = 'expire'"); got != len(due) {
		t.Errorf("%d expiry audit rows, want %d (each expired once)", got, len(due))
	}
	if got := e.count("SELECT count(*) FROM river_job WHERE kind = 'notify_customer' AND args->>'event' = 'expired'"); got != len(due) {
		t.Errorf("%d expiry notices, want %d", got, len(due))
	}
	if got := e.reserved(); got != int32(120-len(due)) {
		t.Errorf("reserved %d, want %d", got, 120-len(due))
	}
}

func TestBulkSettle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 200)
	var ids []int64
	for i := 0; i < 120; i++ {
		r := e.reserve(1)
		if i%10 != 0 { // every tenth stays held and cannot be settled
			if _, err := e.svc.Approve(ctx, e.staff, e.key(), r.ID); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, r.ID)
	}
	res, err := e.svc.SettleMany(ctx, e.staff, ids[:60])
	if err != nil {
		t.Fatal(err)
	}
	if res.Settled != 54 || res.Failed != 6 || len(res.Items) != 60 {
		t.Errorf("selection: settled %d, failed %d, items %d", res.Settled, res.Failed, len(res.Items))
	}
	for _, it := range res.Items {
		if !it.Settled && !strings.Contains(it.Message, "still held") {
			t.Errorf("#%d: %q", it.ID, it.Message)
		}
	}
	res, err = e.svc.SettleSlot(ctx, e.staff, e.slot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Settled != 54 || res.Failed != 0 {
		t.Errorf("slot: settled %d, failed %d", res.Settled, res.Failed)
	}
	if got := e.count("SELECT count(*) FROM reservations WHERE status = 'settled'"); got != 108 {
		t.Errorf("%d settled, want 108", got)
	}
	if got := e.count("SELECT count(*) FROM river_job WHERE kind = 'partner_payout'"); got != 108 {
		t.Errorf("%d payouts, want 108", got)
	}
	if _, err := e.svc.SettleMany(ctx, e.staff, nil); tally.ErrorCode(err) != tally.EINVALID {
		t.Errorf("empty selection: %v", err)
	}
}

func TestFee(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ amount, bp, want int64 }{{10000, 290, 290}, {2500, 290, 73}, {1, 290, 0}, {0, 290, 0}} {
		if got := reservations.Fee(c.amount, c.bp); got != c.want {
			t.Errorf("Fee(%d, %d) = %d, want %d", c.amount, c.bp, got, c.want)
		}
	}
}
