package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"tally/queries"
)

// PurgeArgs deletes what is kept only for a while: expired sessions, sign-in attempts and
// idempotency keys older than a day.
type PurgeArgs struct{}

// Kind is the job's name in River.
func (PurgeArgs) Kind() string { return "purge" }

// InsertOpts puts the job on the maintenance queue. (River's leader alone enqueues periodic
// jobs, so however many workers run, one is inserted per period.)
func (PurgeArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueMaintenance} }

// PurgeWorker works PurgeArgs. Deleting what is already gone does nothing, so it may run twice.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	q *queries.Queries
}

// Work deletes expired sessions, and sign-in attempts and idempotency keys older than a day.
func (w *PurgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	dayAgo := time.Now().Add(-24 * time.Hour)
	if _, err := w.q.SessionPurgeExpired(ctx); err != nil {
		return err
	}
	if _, err := w.q.LoginAttemptPurge(ctx, dayAgo); err != nil {
		return err
	}
	_, err := w.q.IdempotencyKeyPurge(ctx, dayAgo)
	return err
}
