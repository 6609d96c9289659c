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
	// FetchPoll is how often a worker looks for new jobs when no notification arrives (zero
	// is DefaultFetchPoll). Inserts notify the workers, but River's inserting client sends at
	// most one notification per queue per FetchCooldown: a job committed just after another
	// one's notification waits for the next notification, or this poll.
	FetchPoll time.Duration
	// FetchCooldown is the shortest time between two fetches of one queue's jobs (zero is
	// DefaultFetchCooldown). River's own default, 100 ms, caps a queue at its MaxWorkers jobs
	// per 100 ms, and makes a job inserted just after a fetch wait that long.
	FetchCooldown time.Duration
	// PartnerWorkers is how many partner jobs one worker process runs at once (zero is
	// DefaultPartnerWorkers). Partner jobs wait on the partner's answer, not on this machine:
	// the queue keeps pace with the jobs committed when PartnerWorkers is at least the rate
	// times the partner's latency (900 jobs/s at 200 ms: 180).
	PartnerWorkers int
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
// that acts inserts jobs in its transactions); it works none. Its fetch cooldown is the
// workers' default: River's inserting client notifies the workers of a queue's new jobs at
// most once per cooldown, and River's own 100 ms made every job that followed another within
// 100 ms wait for the next one.
func NewInserter(pool *pgxpool.Pool, log *slog.Logger) (*Client, error) {
	return river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: log, FetchCooldown: DefaultFetchCooldown})
}

// Defaults of the fetch settings and the partner queue's concurrency, measured on a 2-core
// machine against the partner simulator (BenchStartLatency). With River's defaults (a 100 ms
// cooldown, a 1 s poll) and 10 partner workers, the queue drained 100 jobs/s, and a burst of
// 900 jobs/s started 40 s late; with these, 3 ms (p50) and 50 ms (p99). The partner's own
// latency bounds the queue at PartnerWorkers per latency: 200 workers keep up with 900 jobs/s
// while the partner answers within 200 ms. The cooldown is River's benchmark's: at 5 ms, no-op
// jobs ran at about 0.6 of that benchmark (BenchNoop), at 2 ms alike; under load a fetch then
// takes what came in the last 2 ms, a query or two per job at worst.
const (
	DefaultFetchCooldown  = 2 * time.Millisecond
	DefaultFetchPoll      = 100 * time.Millisecond
	DefaultPartnerWorkers = 200
)

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
	if cfg.FetchCooldown == 0 {
		cfg.FetchCooldown = DefaultFetchCooldown
	}
	if cfg.FetchPoll == 0 {
		cfg.FetchPoll = DefaultFetchPoll
	}
	if cfg.PartnerWorkers == 0 {
		cfg.PartnerWorkers = DefaultPartnerWorkers
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
	partner := NewPartner(cfg.PartnerURL, cfg.PartnerTimeout, cfg.PartnerWorkers)
	partner.circuit = newCircuit(CircuitConfig{OpenFor: cfg.CircuitOpenFor, Failures: cfg.CircuitFailures}, queries.New(pool), log)
	workers := river.NewWorkers()
	river.AddWorker(workers, &NotifyCustomerWorker{partner: partner, timeout: cfg.PartnerJobTimeout()})
	river.AddWorker(workers, &PartnerPayoutWorker{partner: partner, timeout: cfg.PartnerJobTimeout()})
	river.AddWorker(workers, &ExpireHoldsWorker{holds: res})
	river.AddWorker(workers, &SettlementReportWorker{reports: res})
	river.AddWorker(workers, &PurgeWorker{q: queries.New(pool)})
	rc := riverConfig(cfg, workers)
	rc.Queues = map[string]river.QueueConfig{
		QueueDefault:     {MaxWorkers: 20},
		QueuePartner:     {MaxWorkers: cfg.PartnerWorkers},
		QueueMaintenance: {MaxWorkers: 2},
	}
	rc.PeriodicJobs = []*river.PeriodicJob{
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
	}
	return river.NewClient(riverpgxv5.New(pool), rc)
}

// riverConfig is the River configuration of Tally's workers without their queues and
// periodic jobs: what the no-op benchmark (BenchNoop) measures too. cfg has its defaults.
func riverConfig(cfg Config, workers *river.Workers) *river.Config {
	return &river.Config{
		Logger:            cfg.Logger,
		FetchCooldown:     cfg.FetchCooldown,
		FetchPollInterval: cfg.FetchPoll,
		RetryPolicy:       cfg.RetryPolicy,
		// River's defaults are a minute for every job and an hour before the rescue of a
		// killed worker's jobs, which would leave a payout stuck for an hour.
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		Workers:              workers,
	}
}
