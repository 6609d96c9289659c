package web_test

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

	"github.com/PuerkitoBio/goquery"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/internal/fixture"
	"tally/jobs"
	"tally/partnersim"
	"tally/reservations"
)

// settled reserves, approves and settles n reservations as actor: each has an approval
// notice and a payout waiting.
func (a *app) settled(actor tally.Actor, n int) []int64 {
	a.t.Helper()
	ctx := context.Background()
	slot, customer := fixture.Slot(a.t, a.Pool, int32(n+1), 4200), fixture.Customer(a.t, a.Pool)
	ids := make([]int64, n)
	for i := range ids {
		out, err := a.Service.Reserve(ctx, actor, "reserve-"+fixture.Unique()+"-key", reservations.NewReservation{SlotID: slot.ID, CustomerID: customer.ID, Seats: 1})
		if err != nil {
			a.t.Fatal(err)
		}
		ids[i] = out.Reservation.ID
		for _, act := range []func(context.Context, tally.Actor, string, int64) (reservations.Outcome, error){a.Service.Approve, a.Service.Settle} {
			if _, err := act(ctx, actor, "act-"+fixture.Unique()+"-key", ids[i]); err != nil {
				a.t.Fatal(err)
			}
		}
	}
	return ids
}

// jobIDs are the ids of the jobs of kind, oldest first.
func (a *app) jobIDs(kind string) []int64 {
	a.t.Helper()
	res, err := a.Jobs.JobList(context.Background(), river.NewJobListParams().Kinds(kind).First(1000))
	if err != nil {
		a.t.Fatal(err)
	}
	ids := make([]int64, len(res.Jobs))
	for i, j := range res.Jobs {
		ids[i] = j.ID
	}
	return ids
}

func (a *app) waitJobs(ids []int64, states ...rivertype.JobState) {
	a.t.Helper()
	for _, id := range ids {
		fixture.WaitJob(a.t, a.Jobs, id, 30*time.Second, states...)
	}
}

func (a *app) count(sql string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// outage runs the partner jobs against a partner simulator in an outage, with workers that
// retry at once and have no circuit breaker (which would snooze the jobs rather than use
// their attempts), until every partner job is discarded; then it stops them.
func (a *app) outage() {
	a.t.Helper()
	sim, url := fixture.Partner(a.t)
	sim.SetFaults(partnersim.Faults{Outage: true})
	post := func(ctx context.Context, path, key string, body any) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Idempotency-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("partner %s: %w", path, err)
		}
		defer res.Body.Close()
		text, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			return fmt.Errorf("partner %s: %d %s", path, res.StatusCode, bytes.TrimSpace(text))
		}
		return nil
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[jobs.PartnerPayoutArgs]) error {
		return post(ctx, "/payouts", j.Args.IdempotencyKey(), j.Args)
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[jobs.NotifyCustomerArgs]) error {
		return post(ctx, "/notices", j.Args.IdempotencyKey(), j.Args)
	}))
	stop := a.worker(workers, jobs.QueuePartner)
	a.waitJobs(append(a.jobIDs(jobs.PartnerPayoutArgs{}.Kind()), a.jobIDs(jobs.NotifyCustomerArgs{}.Kind())...), rivertype.JobStateDiscarded)
	stop()
}

// worker starts a River client working queues with workers, retrying failures at once.
func (a *app) worker(workers *river.Workers, queues ...string) (stop func()) {
	a.t.Helper()
	qs := map[string]river.QueueConfig{}
	for _, q := range queues {
		qs[q] = river.QueueConfig{MaxWorkers: 10}
	}
	c, err := river.NewClient(riverpgxv5.New(a.Pool), &river.Config{
		Logger: slog.New(slog.DiscardHandler), FetchPollInterval: 100 * time.Millisecond, FetchCooldown: 20 * time.Millisecond,
		RetryPolicy: now{}, Workers: workers, Queues: qs,
	})
	if err != nil {
		a.t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		a.t.Fatal(err)
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
	a.t.Cleanup(stop)
	return stop
}

// now retries a failed job at once.
type now struct{}

func (now) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Millisecond) }

type goquerySelection = goquery.Selection

// waitABit is the pause of a test polling the database.
func waitABit() { time.Sleep(25 * time.Millisecond) }

// reservationFor is a new reservation of one seat on a new slot.
func reservationFor(t *testing.T, a *app) reservations.NewReservation {
	t.Helper()
	return reservations.NewReservation{SlotID: fixture.Slot(t, a.Pool, 5, 1000).ID, CustomerID: fixture.Customer(t, a.Pool).ID, Seats: 1}
}
