// Package jobs holds Tally's River jobs: their arguments, their workers, the periodic
// schedule, the partner API client, and the River client built from them.
package jobs

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"tally/queries"
)

// Queues (DESIGN §4).
const (
	QueueDefault     = river.QueueDefault
	QueuePartner     = "partner"
	QueueMaintenance = "maintenance"
)

// Config is what the workers need to know.
type Config struct {
	Logger *slog.Logger
	// PartnerURL is the partner API's base address; PartnerTimeout bounds each call.
	PartnerURL     string
	PartnerTimeout time.Duration
	// ExpireEvery is how often held reservations past their hold are expired.
	ExpireEvery time.Duration
	// PurgeEvery is how often old sessions, sign-in attempts and idempotency keys are purged.
	PurgeEvery time.Duration
	// FetchPoll is how often a worker polls for new jobs when no notification arrives.
	FetchPoll time.Duration
	// RetryPolicy decides when a failed job runs again; nil is River's exponential backoff.
	RetryPolicy river.ClientRetryPolicy
}

// Client is the River client of this application.
type Client = river.Client[pgx.Tx]

// NewInserter returns a River client that only inserts jobs and reads them (every process
// that acts inserts jobs in its transactions); it works none.
func NewInserter(pool *pgxpool.Pool, log *slog.Logger) (*Client, error) {
	return river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: log})
}

// NewWorkerClient returns a River client with the queues, the workers and the periodic jobs.
// holds does the expiry of held reservations, which belongs to the reservations package.
func NewWorkerClient(pool *pgxpool.Pool, cfg Config, holds HoldExpirer) (*Client, error) {
	if cfg.PartnerTimeout == 0 {
		cfg.PartnerTimeout = 10 * time.Second
	}
	if cfg.ExpireEvery == 0 {
		cfg.ExpireEvery = time.Minute
	}
	if cfg.PurgeEvery == 0 {
		cfg.PurgeEvery = time.Hour
	}
	partner := NewPartner(cfg.PartnerURL, cfg.PartnerTimeout)
	workers := river.NewWorkers()
	river.AddWorker(workers, &NotifyCustomerWorker{partner: partner})
	river.AddWorker(workers, &PartnerPayoutWorker{partner: partner})
	river.AddWorker(workers, &ExpireHoldsWorker{holds: holds})
	river.AddWorker(workers, &PurgeWorker{q: queries.New(pool)})
	return river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:            cfg.Logger,
		FetchPollInterval: cfg.FetchPoll,
		RetryPolicy:       cfg.RetryPolicy,
		Workers:           workers,
		Queues: map[string]river.QueueConfig{
			QueueDefault:     {MaxWorkers: 20},
			QueuePartner:     {MaxWorkers: 10},
			QueueMaintenance: {MaxWorkers: 2},
		},
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.ExpireEvery),
				func() (river.JobArgs, *river.InsertOpts) { return ExpireHoldsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "expire_holds"}),
			river.NewPeriodicJob(river.PeriodicInterval(cfg.PurgeEvery),
				func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "purge"}),
		},
	})
}
