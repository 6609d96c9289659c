package reservations

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"tally"
	"tally/audit"
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
			rows = append(rows, ListRow{Reservation(r.Reservation), r.SlotStartsAt, r.ResourceName, r.CustomerName, r.CustomerEmail})
		}
		return rows, err
	}
	list, err := s.q.ReservationListNewest(ctx, queries.ReservationListNewestParams{
		Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer, StartsFrom: f.StartsFrom,
		StartsBefore: f.StartsBefore, Search: f.Search, ID: f.ID, BeforeID: p.Cursor, RowLimit: p.Limit,
	})
	for _, r := range list {
		rows = append(rows, ListRow{Reservation(r.Reservation), r.SlotStartsAt, r.ResourceName, r.CustomerName, r.CustomerEmail})
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
	Reservation   Reservation
	SlotStartsAt  time.Time
	ResourceID    int64
	ResourceName  string
	CustomerName  string
	CustomerEmail string
	// Who moved it, by email; empty when nobody (or the system) did.
	CreatedByEmail, ApprovedByEmail, SettledByEmail, ClosedByEmail string
	Ledger                                                         []LedgerEntry
	History                                                        []audit.Event
}

// LedgerEntry is one posting of a settlement.
type LedgerEntry struct {
	TxnID       uuid.UUID
	Account     string
	AmountCents int64
	Currency    string
	CreatedAt   time.Time
}

// Detail returns reservation id in full, or ENOTFOUND.
func (s *Service) Detail(ctx context.Context, id int64) (Detail, error) {
	row, err := s.q.ReservationDetail(ctx, id)
	if err != nil {
		return Detail{}, notFound(err, "There is no reservation #%d.", id)
	}
	d := Detail{
		Reservation: Reservation(row.Reservation), SlotStartsAt: row.SlotStartsAt, ResourceID: row.ResourceID,
		ResourceName: row.ResourceName, CustomerName: row.CustomerName, CustomerEmail: row.CustomerEmail,
		CreatedByEmail: row.CreatedByEmail, ApprovedByEmail: row.ApprovedByEmail, SettledByEmail: row.SettledByEmail,
		ClosedByEmail: row.ClosedByEmail,
	}
	entries, err := s.q.LedgerEntryListByReservation(ctx, id)
	if err != nil {
		return d, err
	}
	for _, e := range entries {
		d.Ledger = append(d.Ledger, LedgerEntry{TxnID: e.TxnID, Account: e.Account, AmountCents: e.AmountCents, Currency: e.Currency, CreatedAt: e.CreatedAt})
	}
	d.History, err = audit.NewLog(s.pool).OfRecord(ctx, audit.RecordReservation, id)
	return d, err
}

// Row is the reservation as a list shows it.
func (d Detail) Row() ListRow {
	return ListRow{Reservation: d.Reservation, SlotStartsAt: d.SlotStartsAt, Resource: d.ResourceName, Customer: d.CustomerName, CustomerEmail: d.CustomerEmail}
}

// Quote checks a reservation before it is made: nil with the seats left and the price when
// the seats are free now, or the error Reserve would give. It takes nothing.
func (s *Service) Quote(ctx context.Context, slotID int64, seats int32) (string, error) {
	if err := (NewReservation{SlotID: slotID, CustomerID: 1, Seats: seats}).Validate(); err != nil {
		return "", err
	}
	got, err := s.q.SlotGet(ctx, slotID)
	if err != nil {
		return "", notFound(err, "There is no slot %d.", slotID)
	}
	slot := got.Slot
	if err := seatsProblem(got, seats); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d of %d seats left · %s a seat · total %s", slot.Capacity-slot.Reserved, slot.Capacity,
		Money(slot.PriceCents, slot.Currency), Money(slot.PriceCents*int64(seats), slot.Currency)), nil
}

// seatsProblem says why seats cannot be taken on the slot as it is (nil when they can).
// Whether it has started is the database's judgement, the clock the reservation is checked by.
func seatsProblem(got queries.SlotGetRow, seats int32) error {
	slot := got.Slot
	switch left := slot.Capacity - slot.Reserved; {
	case got.Started:
		return tally.Errorf(tally.ECONFLICT, "This slot started at %s; it can no longer be reserved.", clock(slot.StartsAt))
	case left == 0:
		return tally.Errorf(tally.ECONFLICT, "Sold out: all %d seats of this slot are taken.", slot.Capacity)
	case seats > left:
		return tally.Errorf(tally.ECONFLICT, "Only %d %s left on this slot; you asked for %d.", left, plural(int(left), "seat"), seats)
	}
	return nil
}
