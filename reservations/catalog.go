package reservations

import (
	"context"
	"time"

	"tally/queries"
)

// Slot is one bookable occurrence, with its resource's name.
type Slot struct {
	ID         int64
	ResourceID int64
	Resource   string
	StartsAt   time.Time
	Capacity   int32
	Reserved   int32
	PriceCents int64
	Currency   string
}

// Left is how many seats are still free.
func (s Slot) Left() int32 { return s.Capacity - s.Reserved }

// UpcomingSlots returns the first limit slots that have not started, from since on (nil: now),
// of one resource or of all (resourceID nil), soonest first.
func (s *Service) UpcomingSlots(ctx context.Context, resourceID *int64, since *time.Time, limit int32) ([]Slot, error) {
	rows, err := s.q.SlotListUpcoming(ctx, queries.SlotListUpcomingParams{Since: since, ResourceID: resourceID, RowLimit: limit})
	slots := make([]Slot, len(rows))
	for i, r := range rows {
		sl := r.Slot
		slots[i] = Slot{ID: sl.ID, ResourceID: sl.ResourceID, Resource: r.ResourceName, StartsAt: sl.StartsAt,
			Capacity: sl.Capacity, Reserved: sl.Reserved, PriceCents: sl.PriceCents, Currency: sl.Currency}
	}
	return slots, err
}

// Resource is something bookable, with the seats of its upcoming slots.
type Resource struct {
	ID       int64
	Name     string
	Kind     string
	Slots    int64
	Capacity int64
	Reserved int64
}

// Resources returns every resource by name.
func (s *Service) Resources(ctx context.Context) ([]Resource, error) {
	rows, err := s.q.ResourceList(ctx)
	out := make([]Resource, len(rows))
	for i, r := range rows {
		out[i] = Resource{ID: r.ID, Name: r.Name, Kind: r.Kind, Slots: r.Slots, Capacity: r.Capacity, Reserved: r.Reserved}
	}
	return out, err
}

// ResourceNames returns every resource by name, with its id and name only (the list's
// resource filter).
func (s *Service) ResourceNames(ctx context.Context) ([]Resource, error) {
	rows, err := s.q.ResourceNames(ctx)
	out := make([]Resource, len(rows))
	for i, r := range rows {
		out[i] = Resource{ID: r.ID, Name: r.Name}
	}
	return out, err
}

// Customer is someone reservations are made for.
type Customer struct {
	ID    int64
	Name  string
	Email string
}

// Customers returns the first limit customers by name whose name or email holds search
// (all when it is empty).
func (s *Service) Customers(ctx context.Context, search string, limit int32) ([]Customer, error) {
	p := queries.CustomerSearchParams{RowLimit: limit}
	if search != "" {
		p.Search = &search
	}
	rows, err := s.q.CustomerSearch(ctx, p)
	out := make([]Customer, len(rows))
	for i, c := range rows {
		out[i] = Customer{ID: c.ID, Name: c.Name, Email: c.Email}
	}
	return out, err
}

// Customer returns customer id, or ENOTFOUND.
func (s *Service) Customer(ctx context.Context, id int64) (Customer, error) {
	c, err := s.q.CustomerGet(ctx, id)
	if err != nil {
		return Customer{}, notFound(err, "There is no customer %d.", id)
	}
	return Customer{ID: c.ID, Name: c.Name, Email: c.Email}, nil
}

// DayTotals is what happened to reservations in one currency since a moment.
type DayTotals struct {
	Currency                string
	Held, Approved, Settled int64
	SettledCents            int64
}

// TotalsSince returns the reservations held, approved and settled since since, one line per
// currency (amounts in different currencies are never added up).
func (s *Service) TotalsSince(ctx context.Context, since time.Time) ([]DayTotals, error) {
	rows, err := s.q.ReservationStatsSince(ctx, since)
	out := make([]DayTotals, len(rows))
	for i, r := range rows {
		out[i] = DayTotals{Currency: r.Currency, Held: r.Held, Approved: r.Approved, Settled: r.Settled, SettledCents: r.SettledCents}
	}
	return out, err
}
