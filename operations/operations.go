// Package operations is what operators do with Tally's jobs: read them (counts per state and
// queue, lag, throughput and latency, failure groups, stuck jobs, one job's whole history) and
// act on them (retry, cancel, delete one, a selection or everything a filter matches; pause
// and resume queues). Every change goes through River's client API, in a transaction that also
// writes its audit row; the reads River has no call for are sqlc queries over River's tables
// (queries/river_jobs.sql), whose rows never leave this package.
package operations

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/audit"
	"tally/jobs"
	"tally/queries"
)

// Audit record types of the operators' actions: a job (record id is the job's id) and a queue
// (record id 0, the queue's name in the detail, "*" for all).
const (
	RecordJob   = audit.RecordJob
	RecordQueue = audit.RecordQueue
)

// Bounds of the actions. An action on a filter reaches at most Cap jobs, BatchSize per
// transaction, so that one click cannot hold locks on, or rewrite, the whole table; a
// selection names at most MaxSelection jobs.
const (
	DefaultBatchSize = 500
	DefaultCap       = 10_000
	MaxSelection     = 1_000
	// MaxReason bounds the reason an operator gives, in characters.
	MaxReason = 500
)

// Config tunes the console.
type Config struct {
	// Workers are the worker processes' settings: each kind's timeout, after which (and
	// StuckMargin) a running job is flagged stuck, and when River's rescuer takes it back.
	// Zero fields are jobs' defaults.
	Workers jobs.Config
	// StuckMargin is how long past its timeout a running job may still be finishing (its
	// worker cancelled it and is returning) before it is flagged. Zero is 30 seconds.
	StuckMargin time.Duration
	// BatchSize is how many jobs one transaction of an action reaches (zero: DefaultBatchSize);
	// Cap how many one action on a filter reaches in all (zero: DefaultCap).
	BatchSize int
	Cap       int
	// CountCap is where a count of one state and queue stops (zero: DefaultCountCap); above
	// it the overview gives the statistics' estimate, or says "more than CountCap".
	CountCap int
	Logger   *slog.Logger
}

// Service reads jobs and acts on them.
type Service struct {
	pool  *pgxpool.Pool
	river *jobs.Client
	cfg   Config
	stats *minuteCache
	masks *maskMemo
}

// NewService returns a Service reading through pool and acting through River's client river
// (an inserter is enough: it need not work jobs).
func NewService(pool *pgxpool.Pool, river *jobs.Client, cfg Config) *Service {
	cfg.Workers = cfg.Workers.WithDefaults()
	if cfg.StuckMargin == 0 {
		cfg.StuckMargin = 30 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Cap <= 0 {
		cfg.Cap = DefaultCap
	}
	if cfg.CountCap <= 0 {
		cfg.CountCap = DefaultCountCap
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{pool: pool, river: river, cfg: cfg, stats: newMinuteCache(), masks: &maskMemo{}}
}

// Cap is how many jobs one action on a filter reaches at most.
func (s *Service) Cap() int { return s.cfg.Cap }

// BatchSize is how many jobs one transaction of an action reaches.
func (s *Service) BatchSize() int { return s.cfg.BatchSize }

// Actor is who acts (see tally.Actor).
type Actor = tally.Actor

// timeoutOf is how long a run of a job of kind may take before its worker cancels it: the
// partner jobs are bounded by the partner call, the others by the workers' job timeout
// (jobs.NewWorkerClient sets both).
func (s *Service) timeoutOf(kind string) time.Duration {
	switch kind {
	case jobs.PartnerPayoutArgs{}.Kind(), jobs.NotifyCustomerArgs{}.Kind():
		return s.cfg.Workers.PartnerJobTimeout()
	}
	return s.cfg.Workers.JobTimeout
}

// partnerKinds are the kinds bounded by the partner call's timeout.
var partnerKinds = []string{jobs.PartnerPayoutArgs{}.Kind(), jobs.NotifyCustomerArgs{}.Kind()}

// notFound turns River's and pgx's "no such row" into ENOTFOUND.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, rivertype.ErrNotFound) || errors.Is(err, pgx.ErrNoRows) {
		return tally.Errorf(tally.ENOTFOUND, format, args...)
	}
	return err
}

// serializationFailure reports whether err is PostgreSQL giving up a repeatable-read
// transaction because a row it meant to change had changed since it began: the batch is run
// again, and sees the change.
func serializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// inTx runs fn in one repeatable-read transaction, committed when fn succeeds. Repeatable
// read makes the batch's reads and River's updates one consistent view: a job that a worker
// or another operator changed after the batch read it is not acted on by mistake (say, a
// completed job made available again); PostgreSQL fails the transaction instead, and it is
// run again from the start, up to attempts times.
func (s *Service) inTx(ctx context.Context, attempts int, fn func(pgx.Tx) error) error {
	var err error
	for i := 0; i < attempts; i++ {
		err = s.tryTx(ctx, fn)
		if err == nil || !serializationFailure(err) {
			return err
		}
	}
	return tally.Errorf(tally.ECONFLICT, "These jobs kept changing while the action ran (workers are busy with them); nothing more was changed. Try again.")
}

func (s *Service) tryTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := queries.New(tx).RiverJobConsoleTx(ctx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// read runs fn in one read-only transaction set up for the console (RiverJobConsoleTx: no JIT
// compilation, whose cost on a large table dwarfs the console's index probes), so that the
// parts of a page (counts, lag, stuck jobs) are also one consistent view.
func (s *Service) read(ctx context.Context, fn func(q *queries.Queries, tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := queries.New(tx)
	if err := q.RiverJobConsoleTx(ctx); err != nil {
		return err
	}
	if err := fn(q, tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
