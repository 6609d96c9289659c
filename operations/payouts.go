package operations

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"tally/jobs"
	"tally/queries"
)

// Payout problems, as the reservation pages mark them.
const (
	// PayoutFailing: the payout's attempts fail (retryable: it tries again; discarded: its
	// attempts are used up and it waits for an operator).
	PayoutFailing = "failing"
	// PayoutCancelled: the payout was cancelled, by the partner refusing it (4xx) or by an
	// operator; it is not tried again unless an operator retries it.
	PayoutCancelled = "cancelled"
)

// PayoutMark is what a reservation's page, the reservations list and the dashboard say of a
// reservation whose payout went wrong.
type PayoutMark struct {
	ReservationID int64
	// JobID is the payout job, for a link and a retry button.
	JobID int64
	// Problem is PayoutFailing or PayoutCancelled; Label says it in a few words ("payout
	// failing", "payout cancelled: partner refused").
	Problem string
	Label   string
	// State is the job's; Attempt and MaxAttempts how far it got; NextAttempt when a
	// retryable payout tries again (nil otherwise).
	State                string
	Attempt, MaxAttempts int
	LastError            string
	NextAttempt          *time.Time
}

// MaxMarks bounds the marks one call returns.
const MaxMarks = 1_000

// PayoutMarks returns the payout marks of the given reservations (those of a list page, at
// most MaxMarks), by reservation id; a reservation whose payout is fine (or that has none) has
// no mark.
func (s *Service) PayoutMarks(ctx context.Context, reservationIDs []int64) (map[int64]PayoutMark, error) {
	out := map[int64]PayoutMark{}
	if len(reservationIDs) == 0 {
		return out, nil
	}
	if len(reservationIDs) > MaxMarks {
		reservationIDs = reservationIDs[:MaxMarks]
	}
	var rows []queries.RiverJobPayoutProblemsOfRow
	err := s.read(ctx, func(q *queries.Queries, _ pgx.Tx) error {
		var err error
		rows, err = q.RiverJobPayoutProblemsOf(ctx, queries.RiverJobPayoutProblemsOfParams{
			PayoutKind: jobs.PartnerPayoutArgs{}.Kind(), ReservationIds: reservationIDs,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ReservationID] = payoutMark(queries.RiverJobPayoutProblemsRow(r))
	}
	return out, nil
}

// PayoutProblems lists the reservations whose payout is failing or was cancelled, the newest
// reservation first, limit of them (at most MaxMarks): for the reservations list's "payout
// problems" filter (their ids) and a list of them.
func (s *Service) PayoutProblems(ctx context.Context, limit int) ([]PayoutMark, error) {
	var rows []queries.RiverJobPayoutProblemsRow
	err := s.read(ctx, func(q *queries.Queries, _ pgx.Tx) error {
		var err error
		rows, err = q.RiverJobPayoutProblems(ctx, queries.RiverJobPayoutProblemsParams{
			PayoutKind: jobs.PartnerPayoutArgs{}.Kind(), MaxRows: int32(min(max(limit, 1), MaxMarks)),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]PayoutMark, len(rows))
	for i, r := range rows {
		out[i] = payoutMark(r)
	}
	return out, nil
}

// PayoutProblemCounts counts the payouts failing and cancelled, each up to MaxMarks (more is
// true when there are more): the dashboard's and the overview's figure.
func (s *Service) PayoutProblemCounts(ctx context.Context) (failing, cancelled int, more bool, err error) {
	err = s.read(ctx, func(q *queries.Queries, _ pgx.Tx) error {
		c, err := q.RiverJobPayoutProblemCount(ctx, queries.RiverJobPayoutProblemCountParams{
			PayoutKind: jobs.PartnerPayoutArgs{}.Kind(), Cap: MaxMarks + 1,
		})
		failing, cancelled, more = int(c.Failing), int(c.Cancelled), c.Failing+c.Cancelled > MaxMarks
		return err
	})
	return failing, cancelled, more, err
}

func payoutMark(r queries.RiverJobPayoutProblemsRow) PayoutMark {
	m := PayoutMark{ReservationID: r.ReservationID, JobID: r.ID, State: r.State, Attempt: int(r.Attempt),
		MaxAttempts: int(r.MaxAttempts), LastError: r.LastError}
	switch r.State {
	case StateCancelled:
		m.Problem = PayoutCancelled
		switch {
		case r.CancelledByOperator:
			m.Label = "payout cancelled by an operator"
		case strings.Contains(r.LastError, "partner refused"):
			m.Label = "payout cancelled: partner refused"
		default:
			m.Label = "payout cancelled"
		}
	case StateDiscarded:
		m.Problem, m.Label = PayoutFailing, "payout failing: attempts used up"
	default:
		m.Problem, m.Label = PayoutFailing, "payout failing"
		t := r.ScheduledAt
		m.NextAttempt = &t
	}
	return m
}
