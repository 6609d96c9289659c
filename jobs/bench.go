package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// The benchmarks of the jobs side (`make bench`): BenchNoop measures job throughput through
// Tally's River configuration against River's own benchmark, BenchStartLatency how soon a
// committed job starts. They print nothing and assert nothing: the bench reports.

// QueueBench is the queue of the no-op benchmark's jobs, which no Tally worker runs.
const QueueBench = "bench"

// NoopArgs is a job that does nothing: River's benchmark job.
type NoopArgs struct {
	Num int `json:"num"`
}

// Kind is the job's name in River.
func (NoopArgs) Kind() string { return "bench_noop" }

// InsertOpts puts it on the bench queue.
func (NoopArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueBench} }

type noopWorker struct {
	river.WorkerDefaults[NoopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[NoopArgs]) error { return nil }

// benchInsertBatch is how many jobs one InsertMany inserts, as River's benchmark does.
const benchInsertBatch = 5_000

// BenchNoop inserts n no-op jobs and works them with workers workers, the way River's own
// benchmark (`river bench`, riverbench) does: the jobs are inserted first (InsertMany, 5,000
// at a time), then the client starts, and the clock runs from its start to the last job's
// completion, as River's event subscription reports it. It returns the jobs completed per
// second.
//
// With tally nil it runs River's benchmark configuration (a 2 ms fetch cooldown, a 20 ms
// poll); with tally set, Tally's workers' configuration built from it (NewWorkerClient's,
// without Tally's queues and periodic jobs), the no-op kind in QueueBench with the same
// number of workers. Its jobs are deleted afterwards (and any a previous run left).
func BenchNoop(ctx context.Context, pool *pgxpool.Pool, n, workers int, tally *Config) (float64, error) {
	if n < 1 || workers < 1 || workers > 10_000 {
		return 0, fmt.Errorf("jobs: bench of %d jobs on %d workers", n, workers)
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, &noopWorker{})
	var rc *river.Config
	if tally != nil {
		cfg := tally.WithDefaults()
		if cfg.Logger == nil {
			cfg.Logger = slog.New(slog.DiscardHandler)
		}
		rc = riverConfig(cfg, ws)
	} else {
		// riverbench's settings (River's cmd/river/riverbench).
		rc = &river.Config{
			FetchCooldown: 2 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond,
			Logger: slog.New(slog.DiscardHandler), Workers: ws,
		}
	}
	rc.Queues = map[string]river.QueueConfig{QueueBench: {MaxWorkers: workers}}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return 0, err
	}
	if err := deleteBenchJobs(ctx, client); err != nil {
		return 0, err
	}
	defer deleteBenchJobs(context.WithoutCancel(ctx), client) //nolint:errcheck // the next run deletes them too

	batch := make([]river.InsertManyParams, 0, benchInsertBatch)
	for i := 0; i < n; i += benchInsertBatch {
		batch = batch[:0]
		for j := i; j < min(n, i+benchInsertBatch); j++ {
			batch = append(batch, river.InsertManyParams{Args: NoopArgs{Num: j + 1}})
		}
		if _, err := client.InsertMany(ctx, batch); err != nil {
			return 0, err
		}
	}

	// The subscription, not the worker, counts a job done: it includes the completer's write.
	events, cancel := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: n,
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled},
	})
	defer cancel()
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		return 0, err
	}
	defer client.Stop(context.WithoutCancel(ctx)) //nolint:errcheck // the benchmark's result is known by then
	var last time.Time
	for done := 0; done < n; {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("jobs: bench stopped after %d of %d jobs: %w", done, n, ctx.Err())
		case ev, ok := <-events:
			if !ok {
				return 0, errors.New("jobs: bench subscription closed")
			}
			if ev.Job == nil || ev.Job.Kind != (NoopArgs{}).Kind() {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				return 0, fmt.Errorf("jobs: bench job %d did not complete: %s", ev.Job.ID, ev.Kind)
			}
			done++
			last = time.Now()
		}
	}
	return float64(n) / last.Sub(start).Seconds(), nil
}

// deleteBenchJobs deletes the no-op benchmark's jobs, 10,000 at a time (River's bound).
func deleteBenchJobs(ctx context.Context, client *Client) error {
	for {
		res, err := client.JobDeleteMany(ctx, river.NewJobDeleteManyParams().Kinds(NoopArgs{}.Kind()).First(10_000))
		if err != nil {
			return err
		}
		if len(res.Jobs) < 10_000 {
			return nil
		}
	}
}

// StartLatency is how soon jobs started after the transactions that inserted them committed.
type StartLatency struct {
	// Jobs is how many were inserted; Rate how many per second were committed.
	Jobs int
	Rate float64
	// P50, P99 and Max are of each job's first attempt's start (River's attempted_at) minus
	// the moment its transaction's commit returned.
	P50, P99, Max time.Duration
	// Throughput is the jobs completed per second, from the first commit to the last job's
	// end: it keeps pace when it is close to Rate.
	Throughput float64
}

// BenchStartLatency inserts n notices (notify_customer jobs, tagged "bench", about
// reservations that do not exist) at rate a second, each in a transaction of its own, and
// measures how soon after its commit each one started. The commits arrive at random (a
// Poisson process of that rate), as independent staff's would. Tally's workers must be running on
// the same database (a `tally worker`, or NewWorkerClient's client), calling the partner. It
// waits for every job to finish, or for ctx.
func BenchStartLatency(ctx context.Context, pool *pgxpool.Pool, rate float64, n int) (StartLatency, error) {
	if n < 1 || rate <= 0 {
		return StartLatency{}, fmt.Errorf("jobs: latency bench of %d jobs at %g/s", n, rate)
	}
	inserter, err := NewInserter(pool, slog.New(slog.DiscardHandler))
	if err != nil {
		return StartLatency{}, err
	}
	// Reservation ids far above any real one, different on every run: the partner takes a
	// notice it has seen for a replay.
	base := time.Now().UnixMicro() * 1000
	ids := make([]int64, n)
	committed := make([]time.Time, n)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	// Poisson arrivals, as independent staff approving would make: some commits come close
	// together, which is what River's notification limit is about.
	at := make([]time.Duration, n)
	for i := 1; i < n; i++ {
		at[i] = at[i-1] + time.Duration(rand.ExpFloat64()/rate*float64(time.Second))
	}
	start := time.Now()
	// Enough inserters that a slow commit does not hold the rate back.
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if d := time.Until(start.Add(at[i])); d > 0 {
					time.Sleep(d)
				}
				id, at, err := insertNotice(ctx, pool, inserter, base+int64(i))
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				ids[i], committed[i] = id, at
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return StartLatency{}, firstErr
	}
	res := StartLatency{Jobs: n, Rate: float64(n) / committed[n-1].Sub(start).Seconds()}
	if n == 1 {
		res.Rate = rate
	}

	byID := make(map[int64]int, n)
	for i, id := range ids {
		byID[id] = i
	}
	waits := make([]time.Duration, 0, n)
	var lastEnd time.Time
	pending := slices.Clone(ids)
	for len(pending) > 0 {
		var still []int64
		for chunk := range slices.Chunk(pending, 10_000) {
			list, err := inserter.JobList(ctx, river.NewJobListParams().IDs(chunk...).States(allStates...).First(len(chunk)))
			if err != nil {
				return res, err
			}
			seen := map[int64]bool{}
			for _, j := range list.Jobs {
				seen[j.ID] = true
				if j.FinalizedAt == nil {
					still = append(still, j.ID)
					continue
				}
				first := j.AttemptedAt
				if len(j.Errors) > 0 { // the first attempt's start is not kept; its failure is
					first = &j.Errors[0].At
				}
				if first != nil {
					waits = append(waits, max(first.Sub(committed[byID[j.ID]]), 0))
				}
				if j.FinalizedAt.After(lastEnd) {
					lastEnd = *j.FinalizedAt
				}
			}
			for _, id := range chunk {
				if !seen[id] {
					return res, fmt.Errorf("jobs: latency bench job %d is gone", id)
				}
			}
		}
		pending = still
		if len(pending) > 0 {
			select {
			case <-ctx.Done():
				return res, fmt.Errorf("jobs: %d of %d bench jobs still unfinished: %w", len(pending), n, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	slices.Sort(waits)
	if len(waits) > 0 {
		res.P50 = waits[(len(waits)-1)/2]
		res.P99 = waits[min(len(waits)-1, len(waits)*99/100)]
		res.Max = waits[len(waits)-1]
	}
	res.Throughput = float64(n) / lastEnd.Sub(committed[0]).Seconds()
	return res, nil
}

var allStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
	rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// insertNotice inserts one bench notice in a transaction of its own and returns its id and
// when the commit returned.
func insertNotice(ctx context.Context, pool *pgxpool.Pool, inserter *Client, reservation int64) (int64, time.Time, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	res, err := inserter.InsertTx(ctx, tx, NotifyCustomerArgs{
		ReservationID: reservation, Event: EventApproved, CustomerEmail: "bench@tally.test",
	}, &river.InsertOpts{Tags: []string{"bench"}})
	if err != nil {
		return 0, time.Time{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, time.Time{}, err
	}
	return res.Job.ID, time.Now(), nil
}
