package reservations

import (
	"context"
	"fmt"
	"time"

	"tally"
	"tally/queries"
)

// Filter narrows the reservations list; a nil field matches everything.
type Filter struct {
	Status, Search                   *string
	ID, SlotID, ResourceID, Customer *int64
	StartsFrom, StartsBefore         *time.Time
}

// PageRequest asks for one page of the list: the reservations after Cursor (an id), newest
// first unless Oldest.
type PageRequest struct {
	Oldest bool
	Cursor *int64
	Limit  int32
}

// ListRow is a reservation as the list shows it.
type ListRow struct {
	Reservation   Reservation
	SlotStartsAt  time.Time
	Resource      string
	Customer      string
	CustomerEmail string
}

// List returns one page of the reservations that f matches, keyset-paginated on the id.
func (s *Service) List(ctx context.Context, f Filter, p PageRequest) ([]ListRow, error) {
	var rows []ListRow
	if p.Oldest {
		list, err := s.q.ReservationListOldest(ctx, queries.ReservationListOldestParams{
			Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer, StartsFrom: f.StartsFrom,
			StartsBefore: f.StartsBefore, Search: f.Search, ID: f.ID, AfterID: p.Cursor, RowLimit: p.Limit,
		})
		for _, r := range list {
			rows = append(rows, ListRow{r.Reservation, r.SlotStartsAt, r.ResourceName, r.CustomerName, r.CustomerEmail})
		}
		return rows, err
	}
	list, err := s.q.ReservationListNewest(ctx, queries.ReservationListNewestParams{
		Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer, StartsFrom: f.StartsFrom,
		StartsBefore: f.StartsBefore, Search: f.Search, ID: f.ID, BeforeID: p.Cursor, RowLimit: p.Limit,
	})
	for _, r := range list {
		rows = append(rows, ListRow{r.Reservation, r.SlotStartsAt, r.ResourceName, r.CustomerName, r.CustomerEmail})
	}
	return rows, err
}

// CountByStatus counts the reservations f matches, whatever its Status, per status.
func (s *Service) CountByStatus(ctx context.Context, f Filter) (map[string]int64, error) {
	counts, err := s.q.ReservationCountByStatus(ctx, queries.ReservationCountByStatusParams{
		SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer, StartsFrom: f.StartsFrom,
		StartsBefore: f.StartsBefore, Search: f.Search, ID: f.ID,
	})
	byStatus := make(map[string]int64, len(counts))
	for _, c := range counts {
		byStatus[c.Status] = c.Reservations
	}
	return byStatus, err
}

// Detail is one reservation with its names, ledger entries and history.
type Detail struct {
	queries.ReservationDetailRow
	Ledger  []queries.LedgerEntry
	History []queries.AuditEvent
}

// Detail returns reservation id in full, or ENOTFOUND.
func (s *Service) Detail(ctx context.Context, id int64) (Detail, error) {
	row, err := s.q.ReservationDetail(ctx, id)
	if err != nil {
		return Detail{}, notFound(err, "There is no reservation #%d.", id)
	}
	d := Detail{ReservationDetailRow: row}
	if d.Ledger, err = s.q.LedgerEntryListByReservation(ctx, id); err != nil {
		return d, err
	}
	d.History, err = s.q.AuditListByRecord(ctx, queries.AuditListByRecordParams{RecordType: "reservation", RecordID: id})
	return d, err
}

// Quote checks a reservation before it is made: nil with the seats left and the price when
// the seats are free now, or the error Reserve would give. It takes nothing.
func (s *Service) Quote(ctx context.Context, slotID int64, seats int32) (string, error) {
	if err := (NewReservation{SlotID: slotID, CustomerID: 1, Seats: seats}).Validate(); err != nil {
		return "", err
	}
	slot, err := s.q.SlotGet(ctx, slotID)
	if err != nil {
		return "", notFound(err, "There is no slot %d.", slotID)
	}
	if err := seatsProblem(slot, seats); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d of %d seats left · %s a seat · total %s", slot.Capacity-slot.Reserved, slot.Capacity,
		Money(slot.PriceCents, slot.Currency), Money(slot.PriceCents*int64(seats), slot.Currency)), nil
}

// seatsProblem says why seats cannot be taken on slot as it is (nil when they can).
func seatsProblem(slot queries.Slot, seats int32) error {
	switch left := slot.Capacity - slot.Reserved; {
	case !slot.StartsAt.After(time.Now()):
		return tally.Errorf(tally.ECONFLICT, "This slot started at %s; it can no longer be reserved.", clock(slot.StartsAt))
	case left == 0:
		return tally.Errorf(tally.ECONFLICT, "Sold out: all %d seats of this slot are taken.", slot.Capacity)
	case seats > left:
		return tally.Errorf(tally.ECONFLICT, "Only %d %s left on this slot; you asked for %d.", left, plural(int(left), "seat"), seats)
	}
	return nil
}
