package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
)

// NotifyCustomerWorker posts a notice to the partner's /notices.
type NotifyCustomerWorker struct {
	river.WorkerDefaults[NotifyCustomerArgs]
	partner *Partner
	timeout time.Duration
}

// Timeout bounds a run by the partner call's own timeout (see Config.PartnerJobTimeout).
func (w *NotifyCustomerWorker) Timeout(*river.Job[NotifyCustomerArgs]) time.Duration {
	return w.timeout
}

// Work sends the notice; a refusal (4xx) cancels the job, since retrying cannot help, and
// an open circuit snoozes it.
func (w *NotifyCustomerWorker) Work(ctx context.Context, job *river.Job[NotifyCustomerArgs]) error {
	return partnerOutcome(w.partner.post(ctx, "/notices", job.Args.IdempotencyKey(), job.Args))
}

// PartnerPayoutWorker posts a payout to the partner's /payouts.
type PartnerPayoutWorker struct {
	river.WorkerDefaults[PartnerPayoutArgs]
	partner *Partner
	timeout time.Duration
}

// Timeout bounds a run by the partner call's own timeout (see Config.PartnerJobTimeout), so
// that River's rescuer, which waits out a kind's timeout, retries a killed worker's payout
// soon.
func (w *PartnerPayoutWorker) Timeout(*river.Job[PartnerPayoutArgs]) time.Duration {
	return w.timeout
}

// Work asks for the payout. The key is the reservation's, so a payout that succeeded at the
// partner but whose job died before completing is not paid again on the retry. A refusal
// cancels the job; an open circuit snoozes it.
func (w *PartnerPayoutWorker) Work(ctx context.Context, job *river.Job[PartnerPayoutArgs]) error {
	return partnerOutcome(w.partner.post(ctx, "/payouts", job.Args.IdempotencyKey(), job.Args))
}

// HoldExpirer expires held reservations past their hold, one batch per transaction, and
// returns how many it expired.
type HoldExpirer interface {
	ExpireHolds(ctx context.Context, batchSize int) (int, error)
}

// ExpireHoldsWorker runs the periodic expiry.
type ExpireHoldsWorker struct {
	river.WorkerDefaults[ExpireHoldsArgs]
	holds HoldExpirer
}

// Work expires every due hold. It is safe to run on several workers at once (SKIP LOCKED).
func (w *ExpireHoldsWorker) Work(ctx context.Context, job *river.Job[ExpireHoldsArgs]) error {
	_, err := w.holds.ExpireHolds(ctx, 500)
	return err
}

// partnerOutcome is what a partner job's run comes to. A refusal (4xx) cancels the job:
// asking again gets the same answer. An open circuit snoozes it until the next probe, which
// costs no attempt: an outage long enough to open the breaker does not use up the job's
// attempts, only the probes do.
func partnerOutcome(err error) error {
	var perm *PermanentError
	var open *CircuitOpenError
	switch {
	case errors.As(err, &perm):
		return river.JobCancel(err)
	case errors.As(err, &open):
		return river.JobSnooze(open.RetryIn)
	}
	return err
}
