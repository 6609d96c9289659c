// Package jobs holds Tally's River jobs: their arguments, their workers, the periodic
// schedule, and the River client built from them.
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
	// Work makes the client work jobs; without it the client only inserts them (a web-only process).
	Work   bool
	Logger *slog.Logger
	// PurgeEvery is how often old sessions, sign-in attempts and idempotency keys are purged.
	PurgeEvery time.Duration
}

// Client is the River client of this application.
type Client = river.Client[pgx.Tx]

// NewClient builds the River client. With cfg.Work it has the queues, the workers and the
// periodic jobs; without, it can only insert (every process inserts jobs in its transactions).
func NewClient(pool *pgxpool.Pool, cfg Config) (*Client, error) {
	rc := &river.Config{Logger: cfg.Logger}
	if cfg.Work {
		if cfg.PurgeEvery == 0 {
			cfg.PurgeEvery = time.Hour
		}
		q := queries.New(pool)
		workers := river.NewWorkers()
		river.AddWorker(workers, &PurgeWorker{q: q})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{
			QueueDefault:     {MaxWorkers: 20},
			QueuePartner:     {MaxWorkers: 5},
			QueueMaintenance: {MaxWorkers: 2},
		}
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.PurgeEvery),
				func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "purge"}),
		}
	}
	return river.NewClient(riverpgxv5.New(pool), rc)
}
