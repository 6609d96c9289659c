package operations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
	"tally/operations"
	"tally/partnersim"
	"tally/queries"
	"tally/reservations"
)

// env is a test database with the console's service, a staff member who settles, an
// operator who acts on jobs, a slot and a customer.
type env struct {
	t        *testing.T
	pool     *pgxpool.Pool
	river    *jobs.Client
	ops      *operations.Service
	bookings *reservations.Service
	staff    tally.Actor
	operator tally.Actor
	slot     queries.Slot
	customer queries.Customer
}

func newEnv(t *testing.T, cfg operations.Config) *env {
	t.Helper()
	pool := testdb.New(t)
	inserter := fixture.Inserter(t, pool)
	staff := fixture.User(t, pool, "kim@example.com", tally.RoleStaff)
	op := fixture.User(t, pool, "ops@example.com", tally.RoleOperator)
	cfg.Logger = slog.New(slog.DiscardHandler)
	return &env{
		t: t, pool: pool, river: inserter, ops: operations.NewService(pool, inserter, cfg),
		bookings: reservations.NewService(pool, inserter, reservations.Config{}),
		staff:    tally.Actor{ID: staff.ID, Email: staff.Email, RequestID: "req-staff"},
		operator: tally.Actor{ID: op.ID, Email: op.Email, RequestID: "req-ops"},
		slot:     fixture.Slot(t, pool, 500, 2500), customer: fixture.Customer(t, pool),
	}
}

// settled reserves, approves and settles n reservations: each has a notice (approved) and a
// payout job waiting.
func (e *env) settled(n int) []int64 {
	e.t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = e.approved()
		if _, err := e.bookings.Settle(context.Background(), e.staff, "settle-"+fixture.Unique()+"-key", ids[i]); err != nil {
			e.t.Fatal(err)
		}
	}
	return ids
}

// approved reserves and approves one reservation.
func (e *env) approved() int64 {
	e.t.Helper()
	ctx := context.Background()
	out, err := e.bookings.Reserve(ctx, e.staff, "reserve-"+fixture.Unique()+"-key",
		reservations.NewReservation{SlotID: e.slot.ID, CustomerID: e.customer.ID, Seats: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.bookings.Approve(ctx, e.staff, "approve-"+fixture.Unique()+"-key", out.Reservation.ID); err != nil {
		e.t.Fatal(err)
	}
	return out.Reservation.ID
}

// jobsOf returns the ids of the jobs of kind, oldest first.
func (e *env) jobsOf(kind string) []int64 {
	e.t.Helper()
	res, err := e.river.JobList(context.Background(), river.NewJobListParams().Kinds(kind).First(1000))
	if err != nil {
		e.t.Fatal(err)
	}
	ids := make([]int64, len(res.Jobs))
	for i, j := range res.Jobs {
		ids[i] = j.ID
	}
	return ids
}

func (e *env) job(id int64) *rivertype.JobRow {
	e.t.Helper()
	j, err := e.river.JobGet(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

// waitStates waits until every job of ids is in one of states.
func (e *env) waitStates(ids []int64, states ...rivertype.JobState) {
	e.t.Helper()
	for _, id := range ids {
		fixture.WaitJob(e.t, e.river, id, 30*time.Second, states...)
	}
}

// waitState waits until job id is in state, and returns it.
func (e *env) waitState(id int64, state rivertype.JobState) *rivertype.JobRow {
	e.t.Helper()
	return fixture.WaitJob(e.t, e.river, id, 30*time.Second, state)
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// partner is a stand-in for the partner as the workers see it: it answers payouts and
// notices through the real simulator over HTTP, the way jobs.Partner does, but with no
// circuit breaker, so that a test's outage burns attempts at once rather than snoozing.
type partner struct {
	sim *partnersim.Sim
	url string
}

func newPartner(t *testing.T) *partner {
	sim, url := fixture.Partner(t)
	return &partner{sim: sim, url: url}
}

func (p *partner) post(ctx context.Context, path, key string, body any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("partner %s: %w", path, err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	switch {
	case res.StatusCode >= 400 && res.StatusCode < 500:
		// A refusal cancels the job, as the real worker does.
		return river.JobCancel(fmt.Errorf("partner refused the request: %d %s", res.StatusCode, bytes.TrimSpace(text)))
	case res.StatusCode >= 300:
		return fmt.Errorf("partner %s: %d %s", path, res.StatusCode, bytes.TrimSpace(text))
	}
	return nil
}

// workers starts River workers for the partner queue that call p, retrying failures at
// once (so that ten attempts take a moment), until the test ends or stop is called.
func (p *partner) workers(t *testing.T, pool *pgxpool.Pool) (stop func()) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[jobs.PartnerPayoutArgs]) error {
		return p.post(ctx, "/payouts", j.Args.IdempotencyKey(), j.Args)
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[jobs.NotifyCustomerArgs]) error {
		return p.post(ctx, "/notices", j.Args.IdempotencyKey(), j.Args)
	}))
	return startClient(t, pool, workers, soon{}, jobs.QueuePartner)
}

// startClient starts a River client working queues with workers.
func startClient(t *testing.T, pool *pgxpool.Pool, workers *river.Workers, retry river.ClientRetryPolicy, queues ...string) (stop func()) {
	t.Helper()
	qs := map[string]river.QueueConfig{}
	for _, q := range queues {
		qs[q] = river.QueueConfig{MaxWorkers: 10}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger: slog.New(slog.DiscardHandler), FetchPollInterval: 100 * time.Millisecond, FetchCooldown: 20 * time.Millisecond, RetryPolicy: retry,
		Workers: workers, Queues: qs,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Stop(ctx) //nolint:errcheck // best effort at the end of a test
	}
	t.Cleanup(stop)
	return stop
}

// soon retries a failed job at once.
type soon struct{}

func (soon) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Millisecond) }

// later retries a failed job in an hour: it stays retryable for the test.
type later struct{}

func (later) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Hour) }

// outage discards the partner jobs ids: the partner is down until every one of them has
// used up its attempts.
func (e *env) outage(p *partner, ids []int64) {
	e.t.Helper()
	p.sim.SetFaults(partnersim.Faults{Outage: true})
	stop := p.workers(e.t, e.pool)
	e.waitStates(ids, rivertype.JobStateDiscarded)
	stop()
	p.sim.SetFaults(partnersim.Faults{})
}
