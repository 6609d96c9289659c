package reservations

import (
	"context"

	"github.com/jackc/pgx/v5"

	"tally"
	"tally/queries"
)

// BulkItem is the outcome for one reservation of a bulk settle.
type BulkItem struct {
	ID      int64
	Settled bool
	Message string
}

// BulkResult is the outcome of a bulk settle, item by item.
type BulkResult struct {
	Items   []BulkItem
	Settled int
	Failed  int
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

// SettleMany settles the given reservations in batches, one transaction per batch. A
// reservation that cannot be settled is reported and the others go on; a batch that fails
// leaves the batches before it settled.
func (s *Service) SettleMany(ctx context.Context, actor Actor, ids []int64) (BulkResult, error) {
	var res BulkResult
	if len(ids) == 0 {
		return res, tally.Errorf(tally.EINVALID, "Select at least one reservation to settle.")
	}
	if len(ids) > MaxBulk {
		return res, tally.Errorf(tally.EINVALID, "Select at most %d reservations at once.", MaxBulk)
	}
	for start := 0; start < len(ids); start += s.cfg.BatchSize {
		batch := ids[start:min(start+s.cfg.BatchSize, len(ids))]
		res.add(s.settleBatch(ctx, actor, func(context.Context, *queries.Queries) ([]int64, error) { return batch, nil })...)
	}
	return res, nil
}

// SettleSlot settles every approved reservation of a slot, in batches. Rows that another
// transaction is settling right now are skipped (SKIP LOCKED) rather than waited for.
func (s *Service) SettleSlot(ctx context.Context, actor Actor, slotID int64) (BulkResult, error) {
	var res BulkResult
	var after int64
	for {
		var picked []int64
		items := s.settleBatch(ctx, actor, func(ctx context.Context, q *queries.Queries) ([]int64, error) {
			ids, err := q.ReservationLockApprovedOfSlot(ctx, queries.ReservationLockApprovedOfSlotParams{
				SlotID: slotID, AfterID: after, BatchSize: int32(s.cfg.BatchSize),
			})
			picked = ids
			return ids, err
		})
		res.add(items...)
		if len(picked) == 0 || len(picked) < s.cfg.BatchSize {
			return res, nil
		}
		after = picked[len(picked)-1]
	}
}

// settleBatch settles the reservations pick returns in one transaction, each in a savepoint
// so that one failure does not undo the others.
func (s *Service) settleBatch(ctx context.Context, actor Actor, pick func(context.Context, *queries.Queries) ([]int64, error)) []BulkItem {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return []BulkItem{{Message: "Internal error: could not start the batch."}}
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	ids, err := pick(ctx, queries.New(tx))
	if err != nil {
		return []BulkItem{{Message: "Internal error: could not pick the batch."}}
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
		items[i].Settled = err == nil
		if err != nil {
			items[i].Message = tally.ErrorMessage(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		for i := range items {
			if items[i].Settled {
				items[i].Settled, items[i].Message = false, "Internal error: the batch was not saved."
			}
		}
	}
	return items
}
