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
	// CircuitOpenFor is how long the partner circuit breaker, once open, holds partner jobs
	// back before it lets a probe call through (zero is 30 seconds); CircuitFailures is how
	// many partner calls failing in a row open it (zero is 5).
	CircuitOpenFor  time.Duration
	CircuitFailures int
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
	if cfg.CircuitOpenFor == 0 {
		cfg.CircuitOpenFor = 30 * time.Second
	}
	if cfg.CircuitFailures == 0 {
		cfg.CircuitFailures = 5
	}
	return cfg
}

// PartnerJobTimeout bounds a run of a job that calls the partner (notify_customer,
// partner_payout).
func (cfg Config) PartnerJobTimeout() time.Duration { return cfg.PartnerTimeout + partnerCallSlack }

func (cfg Config) longestTimeout() time.Duration { return max(cfg.PartnerJobTimeout(), cfg.JobTimeout) }

// Reservations is what the workers ask of the reservations package: the expiry of held
// reservations and the settlement reports.
type Reservations interface {
	HoldExpirer
	SettlementReporter
}

// NewWorkerClient returns a River client with the queues, the workers and the periodic jobs.
// The partner calls go through a circuit breaker, whose state this process writes to the
// database for the console (see Circuit).
func NewWorkerClient(pool *pgxpool.Pool, cfg Config, res Reservations) (*Client, error) {
	cfg = cfg.WithDefaults()
	if cfg.RescueAfter < cfg.longestTimeout() {
		return nil, fmt.Errorf("jobs: rescue after %s is shorter than the longest job timeout, %s: a job still working would run twice",
			cfg.RescueAfter, cfg.longestTimeout())
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	partner := NewPartner(cfg.PartnerURL, cfg.PartnerTimeout)
	partner.circuit = newCircuit(CircuitConfig{OpenFor: cfg.CircuitOpenFor, Failures: cfg.CircuitFailures}, queries.New(pool), log)
	workers := river.NewWorkers()
	river.AddWorker(workers, &NotifyCustomerWorker{partner: partner, timeout: cfg.PartnerJobTimeout()})
	river.AddWorker(workers, &PartnerPayoutWorker{partner: partner, timeout: cfg.PartnerJobTimeout()})
	river.AddWorker(workers, &ExpireHoldsWorker{holds: res})
	river.AddWorker(workers, &SettlementReportWorker{reports: res})
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
			// On start too: a day whose report time passed while no worker ran still gets
			// its report, and writing it again changes nothing.
			river.NewPeriodicJob(daily{reportTime}, yesterdaysReport,
				&river.PeriodicJobOpts{RunOnStart: true, ID: "settlement_report"}),
		},
	})
}
