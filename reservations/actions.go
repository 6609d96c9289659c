package reservations

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"tally"
	"tally/jobs"
	"tally/queries"
)

// NewReservation is what staff give to reserve seats.
type NewReservation struct {
	SlotID     int64
	CustomerID int64
	Seats      int32
}

// MaxSeats is the most seats one reservation may take.
const MaxSeats = 100

// Validate returns EINVALID naming the first problem.
func (n NewReservation) Validate() error {
	switch {
	case n.SlotID <= 0:
		return tally.Errorf(tally.EINVALID, "Choose a slot.")
	case n.CustomerID <= 0:
		return tally.Errorf(tally.EINVALID, "Choose a customer.")
	case n.Seats < 1 || n.Seats > MaxSeats:
		return tally.Errorf(tally.EINVALID, "Seats must be a whole number from 1 to %d.", MaxSeats)
	}
	return nil
}

// Reserve holds seats on a slot for a customer. The seats are taken by a conditional update
// that cannot oversell: when it changes no row, the slot is sold out or has too few seats.
func (s *Service) Reserve(ctx context.Context, actor Actor, key string, n NewReservation) (Outcome, error) {
	if err := n.Validate(); err != nil {
		return Outcome{}, err
	}
	fingerprint := fmt.Sprintf("reserve:slot=%d:customer=%d:seats=%d", n.SlotID, n.CustomerID, n.Seats)
	return s.act(ctx, actor, key, fingerprint, func(q *queries.Queries, tx pgx.Tx) (Outcome, error) {
		customer, err := q.CustomerGet(ctx, n.CustomerID)
		if err != nil {
			return Outcome{}, notFound(err, "There is no customer %d.", n.CustomerID)
		}
		slot, err := q.SlotTakeSeats(ctx, queries.SlotTakeSeatsParams{ID: n.SlotID, Seats: n.Seats})
		if errors.Is(err, pgx.ErrNoRows) {
			return Outcome{}, s.explainNoSeats(ctx, q, n)
		} else if err != nil {
			return Outcome{}, err
		}
		r, err := q.ReservationInsert(ctx, queries.ReservationInsertParams{
			SlotID: slot.ID, CustomerID: customer.ID, Seats: n.Seats,
			AmountCents: slot.PriceCents * int64(n.Seats), Currency: slot.Currency,
			HoldSeconds: s.cfg.HoldFor.Seconds(), CreatedBy: &actor.ID,
		})
		if err != nil {
			return Outcome{}, err
		}
		if err := record(ctx, tx, actor, key, "reserve", r, "", map[string]any{"slot_id": slot.ID, "seats": n.Seats}); err != nil {
			return Outcome{}, err
		}
		msg := fmt.Sprintf("Reserved %d %s for %s; held until %s.", n.Seats, plural(int(n.Seats), "seat"), customer.Name, clock(r.HoldExpiresAt))
		return Outcome{Reservation: Reservation(r), Message: msg}, nil
	})
}

func (s *Service) explainNoSeats(ctx context.Context, q *queries.Queries, n NewReservation) error {
	slot, err := q.SlotGet(ctx, n.SlotID)
	if err != nil {
		return notFound(err, "There is no slot %d.", n.SlotID)
	}
	if err := seatsProblem(slot, n.Seats); err != nil {
		return err
	}
	// The seats were taken between the update and this read, and given back since.
	return tally.Errorf(tally.ECONFLICT, "The seats were being taken by someone else just now. Try again.")
}

// Approve confirms a held reservation whose hold has not expired, and tells the customer.
func (s *Service) Approve(ctx context.Context, actor Actor, key string, id int64) (Outcome, error) {
	return s.act(ctx, actor, key, fmt.Sprintf("approve:%d", id), func(q *queries.Queries, tx pgx.Tx) (Outcome, error) {
		r, err := q.ReservationApprove(ctx, queries.ReservationApproveParams{ID: id, ActorID: &actor.ID})
		if errors.Is(err, pgx.ErrNoRows) {
			return Outcome{}, s.refusal(ctx, q, id, "approve")
		} else if err != nil {
			return Outcome{}, err
		}
		if err := s.finish(ctx, q, tx, actor, key, "approve", r, StatusHeld, jobs.EventApproved); err != nil {
			return Outcome{}, err
		}
		return Outcome{Reservation: Reservation(r), Message: fmt.Sprintf("Approved reservation #%d.", r.ID)}, nil
	})
}

// Reject turns down a held reservation and gives its seats back.
func (s *Service) Reject(ctx context.Context, actor Actor, key string, id int64) (Outcome, error) {
	return s.act(ctx, actor, key, fmt.Sprintf("reject:%d", id), func(q *queries.Queries, tx pgx.Tx) (Outcome, error) {
		r, err := q.ReservationReject(ctx, queries.ReservationRejectParams{ID: id, ActorID: &actor.ID})
		if errors.Is(err, pgx.ErrNoRows) {
			return Outcome{}, s.refusal(ctx, q, id, "reject")
		} else if err != nil {
			return Outcome{}, err
		}
		if err := q.SlotReleaseSeats(ctx, queries.SlotReleaseSeatsParams{ID: r.SlotID, Seats: r.Seats}); err != nil {
			return Outcome{}, err
		}
		if err := s.finish(ctx, q, tx, actor, key, "reject", r, StatusHeld, jobs.EventRejected); err != nil {
			return Outcome{}, err
		}
		return Outcome{Reservation: Reservation(r), Message: fmt.Sprintf("Rejected reservation #%d; %d %s released.", r.ID, r.Seats, plural(int(r.Seats), "seat"))}, nil
	})
}

// Cancel cancels a held or approved reservation and gives its seats back.
func (s *Service) Cancel(ctx context.Context, actor Actor, key string, id int64) (Outcome, error) {
	return s.act(ctx, actor, key, fmt.Sprintf("cancel:%d", id), func(q *queries.Queries, tx pgx.Tx) (Outcome, error) {
		r, err := q.ReservationCancel(ctx, queries.ReservationCancelParams{ID: id, ActorID: &actor.ID})
		if errors.Is(err, pgx.ErrNoRows) {
			return Outcome{}, s.refusal(ctx, q, id, "cancel")
		} else if err != nil {
			return Outcome{}, err
		}
		// Only an approval sets approved_at, and cancelling keeps it: it tells where we came from.
		from := StatusHeld
		if r.ApprovedAt != nil {
			from = StatusApproved
		}
		if err := q.SlotReleaseSeats(ctx, queries.SlotReleaseSeatsParams{ID: r.SlotID, Seats: r.Seats}); err != nil {
			return Outcome{}, err
		}
		if err := s.finish(ctx, q, tx, actor, key, "cancel", r, from, jobs.EventCancelled); err != nil {
			return Outcome{}, err
		}
		return Outcome{Reservation: Reservation(r), Message: fmt.Sprintf("Cancelled reservation #%d; %d %s released.", r.ID, r.Seats, plural(int(r.Seats), "seat"))}, nil
	})
}

// Settle settles an approved reservation: the ledger postings and the partner payout job.
func (s *Service) Settle(ctx context.Context, actor Actor, key string, id int64) (Outcome, error) {
	return s.act(ctx, actor, key, fmt.Sprintf("settle:%d", id), func(q *queries.Queries, tx pgx.Tx) (Outcome, error) {
		r, err := s.settle(ctx, q, tx, actor, key, id)
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Reservation: Reservation(r), Message: fmt.Sprintf("Settled reservation #%d (%s); payout queued.", r.ID, Money(r.AmountCents, r.Currency))}, nil
	})
}

// settle is the settlement of one reservation inside a transaction, shared by Settle and
// the bulk settles. The postings (debits positive, credits negative) sum to zero:
//
//	receivable  +(amount − fee)   what the partner pays out to us
//	fees        +fee              the partner's fee, an expense
//	revenue     −amount           the sale
func (s *Service) settle(ctx context.Context, q *queries.Queries, tx pgx.Tx, actor Actor, key string, id int64) (queries.Reservation, error) {
	r, err := q.ReservationSettle(ctx, queries.ReservationSettleParams{ID: id, ActorID: &actor.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		return r, s.refusal(ctx, q, id, "settle")
	} else if err != nil {
		return r, err
	}
	fee := Fee(r.AmountCents, s.cfg.FeeBasisPoints)
	txn := uuid.New()
	var accounts []string
	var amounts []int64
	for _, e := range []struct {
		account string
		cents   int64
	}{{"receivable", r.AmountCents - fee}, {"fees", fee}, {"revenue", -r.AmountCents}} {
		if e.cents != 0 { // a free reservation posts nothing
			accounts, amounts = append(accounts, e.account), append(amounts, e.cents)
		}
	}
	if len(accounts) > 0 {
		if err := q.LedgerPost(ctx, queries.LedgerPostParams{
			TxnID: txn, ReservationID: r.ID, Currency: r.Currency, Accounts: accounts, Amounts: amounts,
		}); err != nil {
			return r, err
		}
	}
	if err := record(ctx, tx, actor, key, "settle", r, StatusApproved, map[string]any{"ledger_txn": txn, "fee_cents": fee}); err != nil {
		return r, err
	}
	if payout := r.AmountCents - fee; payout > 0 {
		_, err = s.jobs.InsertTx(ctx, tx, jobs.PartnerPayoutArgs{ReservationID: r.ID, AmountCents: payout, Currency: r.Currency}, jobs.ForReservation(r.ID))
	}
	return r, err
}

// finish writes the audit row and inserts the customer notice of a transition.
func (s *Service) finish(ctx context.Context, q *queries.Queries, tx pgx.Tx, actor Actor, key, action string, r queries.Reservation, from, event string) error {
	if err := record(ctx, tx, actor, key, action, r, from, nil); err != nil {
		return err
	}
	email, err := customerEmail(ctx, q, r.CustomerID)
	if err != nil {
		return err
	}
	_, err = s.jobs.InsertTx(ctx, tx, jobs.NotifyCustomerArgs{ReservationID: r.ID, Event: event, CustomerEmail: email}, jobs.ForReservation(r.ID))
	return err
}

func customerEmail(ctx context.Context, q *queries.Queries, id int64) (string, error) {
	c, err := q.CustomerGet(ctx, id)
	return c.Email, err
}

// Fee is the partner's fee on amount at basisPoints, rounded half up to the cent.
func Fee(amountCents, basisPoints int64) int64 { return (amountCents*basisPoints + 5000) / 10000 }

// refusal says why a transition changed no row, from the reservation as it is now.
func (s *Service) refusal(ctx context.Context, q *queries.Queries, id int64, action string) error {
	d, err := q.ReservationDetail(ctx, id)
	if err != nil {
		return notFound(err, "There is no reservation #%d.", id)
	}
	r := d.Reservation
	who := func(email string) string {
		if email == "" {
			return "the system"
		}
		return email
	}
	var why string
	switch r.Status {
	case StatusApproved:
		why = fmt.Sprintf("it was already approved by %s at %s", who(d.ApprovedByEmail), clock(*r.ApprovedAt))
	case StatusSettled:
		why = fmt.Sprintf("it was already settled by %s at %s", who(d.SettledByEmail), clock(*r.SettledAt))
	case StatusRejected:
		why = fmt.Sprintf("it was rejected by %s at %s", who(d.ClosedByEmail), clock(*r.ClosedAt))
	case StatusCancelled:
		why = fmt.Sprintf("it was cancelled by %s at %s", who(d.ClosedByEmail), clock(*r.ClosedAt))
	case StatusExpired:
		why = fmt.Sprintf("its hold expired at %s", clock(r.HoldExpiresAt))
	case StatusHeld:
		if action == "approve" {
			why = fmt.Sprintf("its hold expired at %s", clock(r.HoldExpiresAt))
		} else {
			why = "it is still held: approve it first"
		}
	default:
		why = "it is " + r.Status
	}
	return tally.Errorf(tally.ECONFLICT, "Reservation #%d cannot be %s: %s.", id, pastTense[action], why)
}

var pastTense = map[string]string{"approve": "approved", "reject": "rejected", "cancel": "cancelled", "settle": "settled"}

// ExpireHolds expires held reservations past their hold, batchSize per transaction, gives
// their seats back and queues the notices. Rows another worker is expiring are skipped, so
// it is safe to run on many workers at once.
func (s *Service) ExpireHolds(ctx context.Context, batchSize int) (int, error) {
	total := 0
	for {
		n, err := s.expireBatch(ctx, batchSize)
		total += n
		if err != nil || n < batchSize {
			return total, err
		}
	}
}

func (s *Service) expireBatch(ctx context.Context, batchSize int) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := queries.New(tx)
	expired, err := q.ReservationExpireDue(ctx, int32(batchSize))
	if err != nil || len(expired) == 0 {
		return 0, err
	}
	slotIDs, seats := make([]int64, len(expired)), make([]int32, len(expired))
	notices := make([]jobs.NotifyCustomerArgs, len(expired))
	system := Actor{Email: "system"}
	for i, r := range expired {
		slotIDs[i], seats[i] = r.SlotID, r.Seats
		if err := record(ctx, tx, system, "", "expire", r, StatusHeld, nil); err != nil {
			return 0, err
		}
		email, err := customerEmail(ctx, q, r.CustomerID)
		if err != nil {
			return 0, err
		}
		notices[i] = jobs.NotifyCustomerArgs{ReservationID: r.ID, Event: jobs.EventExpired, CustomerEmail: email}
	}
	if err := q.SlotReleaseSeatsMany(ctx, queries.SlotReleaseSeatsManyParams{SlotIds: slotIDs, Seats: seats}); err != nil {
		return 0, err
	}
	for _, n := range notices {
		if _, err := s.jobs.InsertTx(ctx, tx, n, jobs.ForReservation(n.ReservationID)); err != nil {
			return 0, err
		}
	}
	return len(expired), tx.Commit(ctx)
}

func clock(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Money formats cents as an amount with its currency, e.g. "EUR 12.50" or "EUR 31,240.00".
func Money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units := strconv.FormatInt(cents/100, 10)
	for i := len(units) - 3; i > 0; i -= 3 {
		units = units[:i] + "," + units[i:]
	}
	return fmt.Sprintf("%s%s %s.%02d", sign, currency, units, cents%100)
}
