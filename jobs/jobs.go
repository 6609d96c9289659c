// Package jobs holds Tally's River jobs: their arguments, their workers, the periodic
// schedule, the partner API client, and the River client built from them.
package jobs

import (
	"fmt"
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
	// PartnerURL is the partner API's base address; PartnerTimeout bounds each call (zero is
	// 10 seconds), and with it the run of a job that calls the partner.
	PartnerURL     string
	PartnerTimeout time.Duration
	// JobTimeout bounds a run of the jobs that do not call the partner (expiry, purge);
	// zero is a minute.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River takes its worker for dead
	// (killed, its host lost) and runs the job again. Zero is the longest job timeout plus
	// a minute. It may not be shorter than the longest job timeout: a job still working
	// would then run twice at once.
	RescueAfter time.Duration
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

// partnerCallSlack is how much longer than its partner call a partner job may run: the
// call's own timeout ends it first, with the clearer error.
const partnerCallSlack = 5 * time.Second

// rescueMargin is how long past the longest job timeout a running job waits by default
// before it is taken for abandoned.
const rescueMargin = time.Minute

// WithDefaults returns cfg with its zero durations replaced by their defaults.
func (cfg Config) WithDefaults() Config {
	if cfg.PartnerTimeout == 0 {
		cfg.PartnerTimeout = 10 * time.Second
	}
	if cfg.JobTimeout == 0 {
		cfg.JobTimeout = time.Minute
	}
	if cfg.RescueAfter == 0 {
		cfg.RescueAfter = cfg.longestTimeout() + rescueMargin
	}
	if cfg.ExpireEvery == 0 {
		cfg.ExpireEvery = time.Minute
	}
	if cfg.PurgeEvery == 0 {
		cfg.PurgeEvery = time.Hour
	}
	return cfg
}

// PartnerJobTimeout bounds a run of a job that calls the partner (notify_customer,
// partner_payout).
func (cfg Config) PartnerJobTimeout() time.Duration { return cfg.PartnerTimeout + partnerCallSlack }

func (cfg Config) longestTimeout() time.Duration { return max(cfg.PartnerJobTimeout(), cfg.JobTimeout) }

// NewWorkerClient returns a River client with the queues, the workers and the periodic jobs.
// holds does the expiry of held reservations, which belongs to the reservations package.
func NewWorkerClient(pool *pgxpool.Pool, cfg Config, holds HoldExpirer) (*Client, error) {
	cfg = cfg.WithDefaults()
	if cfg.RescueAfter < cfg.longestTimeout() {
		return nil, fmt.Errorf("jobs: rescue after %s is shorter than the longest job timeout, %s: a job still working would run twice",
			cfg.RescueAfter, cfg.longestTimeout())
	}
	partner := NewPartner(cfg.PartnerURL, cfg.PartnerTimeout)
	workers := river.NewWorkers()
	river.AddWorker(workers, &NotifyCustomerWorker{partner: partner, timeout: cfg.PartnerJobTimeout()})
	river.AddWorker(workers, &PartnerPayoutWorker{partner: partner, timeout: cfg.PartnerJobTimeout()})
	river.AddWorker(workers, &ExpireHoldsWorker{holds: holds})
	river.AddWorker(workers, &PurgeWorker{q: queries.New(pool)})
	return river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:            cfg.Logger,
		FetchPollInterval: cfg.FetchPoll,
		RetryPolicy:       cfg.RetryPolicy,
		// River's defaults are a minute for every job and an hour before the rescue of a
		// killed worker's jobs, which would leave a payout stuck for an hour.
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		Workers:              workers,
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
