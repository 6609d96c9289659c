package reservations

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tally"
	"tally/queries"
)

// BulkItem is the outcome for one reservation of a bulk settle.
type BulkItem struct {
	ID      int64
	Settled bool
	Message string
}

// BulkResult is the outcome of a bulk settle, item by item. Problem says what went wrong
// with a batch as a whole when it names no reservation (a slot's batch that could not be
// picked); it is empty when every batch ran.
type BulkResult struct {
	Items   []BulkItem
	Settled int
	Failed  int
	Problem string
}

func (b *BulkResult) add(items ...BulkItem) {
	for _, it := range items {
		b.Items = append(b.Items, it)
		if it.Settled {
			b.Settled++
		} else {
			b.Failed++
		}
	}
}

// MaxBulk bounds how many reservations one bulk request may name.
const MaxBulk = 1000

// Bulk settles keep going when the browser that asked goes away (a half-settled selection
// helps nobody), but not for ever.
const bulkTimeout = 2 * time.Minute

// batchAttempts bounds how often a batch is run again after a deadlock or serialization
// failure, which PostgreSQL resolves by failing one of the transactions.
const batchAttempts = 4

// SettleMany settles the given reservations in batches, one transaction per batch. A
// reservation that cannot be settled is reported with the reason and the others go on; a
// batch that fails leaves the batches before it settled. The ids are settled in ascending
// order, so two bulk settles of the same reservations lock them in one order and do not
// deadlock: the second finds each one already settled and says by whom.
func (s *Service) SettleMany(ctx context.Context, actor Actor, ids []int64) (BulkResult, error) {
	var res BulkResult
	if len(ids) == 0 {
		return res, tally.Errorf(tally.EINVALID, "Select at least one reservation to settle.")
	}
	if len(ids) > MaxBulk {
		return res, tally.Errorf(tally.EINVALID, "Select at most %d reservations at once.", MaxBulk)
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bulkTimeout)
	defer cancel()
	for start := 0; start < len(ids); start += s.cfg.BatchSize {
		batch := ids[start:min(start+s.cfg.BatchSize, len(ids))]
		items, err := s.settleBatch(ctx, actor, func(context.Context, *queries.Queries) ([]int64, error) { return batch, nil })
		if err != nil {
			items = s.batchFailed(actor, batch, err)
		}
		res.add(items...)
	}
	return res, nil
}

// SettleSlot settles every approved reservation of a slot, in batches. Rows that another
// transaction is settling right now are skipped (SKIP LOCKED) rather than waited for.
func (s *Service) SettleSlot(ctx context.Context, actor Actor, slotID int64) (BulkResult, error) {
	var res BulkResult
	var after int64
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bulkTimeout)
	defer cancel()
	for {
		var picked []int64
		items, err := s.settleBatch(ctx, actor, func(ctx context.Context, q *queries.Queries) ([]int64, error) {
			ids, err := q.ReservationLockApprovedOfSlot(ctx, queries.ReservationLockApprovedOfSlotParams{
				SlotID: slotID, AfterID: after, BatchSize: int32(s.cfg.BatchSize),
			})
			picked = ids
			return ids, err
		})
		if err != nil {
			if len(picked) == 0 {
				s.cfg.Logger.Error("bulk settle: picking a batch", "err", err, "slot", slotID, "request_id", actor.RequestID)
				res.Problem = "Some reservations of this slot could not be settled (internal error, logged). Run it again to settle the rest."
				return res, nil
			}
			items = s.batchFailed(actor, picked, err)
		}
		res.add(items...)
		if len(picked) < s.cfg.BatchSize {
			return res, nil
		}
		after = picked[len(picked)-1]
	}
}

// batchFailed logs why a batch failed as a whole and reports each of its reservations.
func (s *Service) batchFailed(actor Actor, ids []int64, err error) []BulkItem {
	s.cfg.Logger.Error("bulk settle: batch failed", "err", err, "reservations", ids, "request_id", actor.RequestID)
	items := make([]BulkItem, len(ids))
	for i, id := range ids {
		items[i] = BulkItem{ID: id, Message: "Not settled: internal error (logged). Try again."}
	}
	return items
}

// settleBatch settles the reservations pick returns in one transaction, each in a savepoint
// so that one refusal does not undo the others. A deadlock or serialization failure rolls
// the whole batch back and runs it again, a bounded number of times.
func (s *Service) settleBatch(ctx context.Context, actor Actor, pick func(context.Context, *queries.Queries) ([]int64, error)) ([]BulkItem, error) {
	for attempt := 1; ; attempt++ {
		items, err := s.trySettleBatch(ctx, actor, pick)
		if err == nil || !retryable(err) || attempt == batchAttempts {
			return items, err
		}
		s.cfg.Logger.Warn("bulk settle: batch retried", "err", err, "attempt", attempt, "request_id", actor.RequestID)
		time.Sleep(time.Duration(attempt*20+rand.IntN(30)) * time.Millisecond)
	}
}

func (s *Service) trySettleBatch(ctx context.Context, actor Actor, pick func(context.Context, *queries.Queries) ([]int64, error)) ([]BulkItem, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	ids, err := pick(ctx, queries.New(tx))
	if err != nil {
		return nil, err
	}
	items := make([]BulkItem, len(ids))
	for i, id := range ids {
		items[i] = BulkItem{ID: id}
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			r, err := s.settle(ctx, queries.New(sp), sp, actor, "", id)
			if err == nil {
				items[i].Message = "Settled (" + Money(r.AmountCents, r.Currency) + ")."
			}
			return err
		})
		switch code := tally.ErrorCode(err); {
		case err == nil:
			items[i].Settled = true
		case retryable(err):
			return nil, err
		case code == tally.EINTERNAL:
			// A refusal is the user's to read; anything else is ours to fix.
			s.cfg.Logger.Error("bulk settle: item failed", "err", err, "reservation", id, "request_id", actor.RequestID)
			items[i].Message = fmt.Sprintf("Not settled: internal error (logged). Try reservation #%d again.", id)
		default:
			items[i].Message = tally.ErrorMessage(err)
		}
	}
	return items, tx.Commit(ctx)
}

// retryable reports a failure that running the transaction again can cure.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}
