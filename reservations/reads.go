package reservations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tally"
	"tally/audit"
	"tally/queries"
)

// Filter narrows the reservations list; a nil field matches everything.
type Filter struct {
	Status, Search                   *string
	ID, SlotID, ResourceID, Customer *int64
	StartsFrom, StartsBefore         *time.Time
	// PayoutProblem keeps the reservations whose payout job is failing (retryable or
	// discarded) or was cancelled.
	PayoutProblem bool
}

// narrowed reports whether anything but the status narrows the list.
func (f Filter) narrowed() bool {
	return f.Search != nil || f.ID != nil || f.SlotID != nil || f.ResourceID != nil || f.Customer != nil ||
		f.StartsFrom != nil || f.StartsBefore != nil || f.PayoutProblem
}

// searchID is the reservation id a search for a number also finds ("42", not "042").
func (f Filter) searchID() *int64 {
	if f.Search == nil {
		return nil
	}
	id, err := strconv.ParseInt(*f.Search, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != *f.Search {
		return nil
	}
	return &id
}

// SortKey names what the list can be sorted by. Each has an index to walk.
type SortKey string

// The sort keys. Ties are broken by id, in the same direction.
const (
	SortID       SortKey = "id" // the order reservations were made in
	SortSlot     SortKey = "slot"
	SortAmount   SortKey = "amount"
	SortStatus   SortKey = "status"
	SortCustomer SortKey = "customer" // the customer's name
)

// SortKeys lists the sort keys.
var SortKeys = []SortKey{SortID, SortSlot, SortAmount, SortStatus, SortCustomer}

// Order is how the list is sorted.
type Order struct {
	Key  SortKey
	Desc bool
}

// Newest is the list's usual order: the latest reservations first.
var Newest = Order{Key: SortID, Desc: true}

// ParseOrder reads an order as the list's address spells it: "amount" ascending, "-amount"
// descending.
func ParseOrder(s string) (Order, error) {
	o := Order{Key: SortKey(strings.TrimPrefix(s, "-")), Desc: strings.HasPrefix(s, "-")}
	if !slices.Contains(SortKeys, o.Key) {
		return Newest, tally.Errorf(tally.EINVALID, "The list cannot be sorted by %q; sort by id, slot, amount, status or customer.", s)
	}
	return o, nil
}

// String is the order as ParseOrder reads it.
func (o Order) String() string {
	if o.Desc {
		return "-" + string(o.Key)
	}
	return string(o.Key)
}

// PageRequest asks for one page of the list in Order: the Limit rows after the row whose
// cursor is After, or the Limit rows before the row whose cursor is Before, or the first
// Limit rows when neither is set. Cursors come from ListRow.Cursor under the same Order.
type PageRequest struct {
	Order         Order
	After, Before string
	Limit         int32
}

// Page is one page of the list, in order. HasPrev and HasNext say whether rows come before
// its first row and after its last. First is true when it is the list's first page (asked
// for, or what a Before cursor near the start came to).
type Page struct {
	Rows             []ListRow
	HasPrev, HasNext bool
	First            bool
}

// ListRow is a reservation as the list shows it.
type ListRow struct {
	Reservation   Reservation
	SlotStartsAt  time.Time
	Resource      string
	Customer      string
	CustomerEmail string
}

// Cursor marks the row's place in the list sorted by key: the key's value and the id.
func (r ListRow) Cursor(key SortKey) string {
	id := strconv.FormatInt(r.Reservation.ID, 10)
	switch key {
	case SortSlot:
		return r.SlotStartsAt.UTC().Format(time.RFC3339Nano) + cursorSep + id
	case SortAmount:
		return strconv.FormatInt(r.Reservation.AmountCents, 10) + cursorSep + id
	case SortStatus:
		return r.Reservation.Status + cursorSep + id
	case SortCustomer:
		return r.Customer + cursorSep + id
	}
	return id
}

// cursorSep ends a cursor's key value; the id after it holds none, so a cursor splits at its
// last one whatever a customer's name holds.
const cursorSep = "~"

// cursor is a parsed ListRow.Cursor: the id and the one key value its sort needs.
type cursor struct {
	id     int64
	at     time.Time
	amount int64
	text   string
}

// parseCursor reads a cursor made by ListRow.Cursor for key. A cursor from another sort, or
// one edited by hand, is EINVALID.
func parseCursor(key SortKey, s string) (*cursor, error) {
	bad := tally.Errorf(tally.EINVALID, "This page link is broken or belongs to another sort order; start again from the first page.")
	value, idText := "", s
	if key != SortID {
		i := strings.LastIndex(s, cursorSep)
		if i < 0 {
			return nil, bad
		}
		value, idText = s[:i], s[i+len(cursorSep):]
	}
	c := &cursor{}
	var err error
	if c.id, err = strconv.ParseInt(idText, 10, 64); err != nil || c.id <= 0 {
		return nil, bad
	}
	switch key {
	case SortSlot:
		if c.at, err = time.Parse(time.RFC3339Nano, value); err != nil {
			return nil, bad
		}
	case SortAmount:
		if c.amount, err = strconv.ParseInt(value, 10, 64); err != nil {
			return nil, bad
		}
	case SortStatus, SortCustomer:
		if utf8.RuneCountInString(value) > 200 { // no name or status is longer
			return nil, bad
		}
		c.text = value
	}
	return c, nil
}

// List returns one page of the reservations that f matches, sorted and keyset-paginated as
// p asks.
func (s *Service) List(ctx context.Context, f Filter, p PageRequest) (Page, error) {
	if p.Limit <= 0 {
		return Page{}, tally.Errorf(tally.EINVALID, "A page holds at least one reservation.")
	}
	if p.Before != "" {
		before, err := parseCursor(p.Order.Key, p.Before)
		if err != nil {
			return Page{}, err
		}
		rows, err := s.listAfter(ctx, f, Order{Key: p.Order.Key, Desc: !p.Order.Desc}, before, p.Limit+1)
		if err != nil {
			return Page{}, err
		}
		if len(rows) <= int(p.Limit) {
			// Back at the start: the first page, full, rather than the few rows before the cursor.
			return s.List(ctx, f, PageRequest{Order: p.Order, Limit: p.Limit})
		}
		rows = rows[:p.Limit]
		slices.Reverse(rows)
		return Page{Rows: rows, HasPrev: true, HasNext: true}, nil
	}
	var after *cursor
	if p.After != "" {
		var err error
		if after, err = parseCursor(p.Order.Key, p.After); err != nil {
			return Page{}, err
		}
	}
	rows, err := s.listAfter(ctx, f, p.Order, after, p.Limit+1)
	if err != nil {
		return Page{}, err
	}
	page := Page{Rows: rows, HasPrev: after != nil, First: after == nil}
	if len(rows) > int(p.Limit) {
		page.Rows, page.HasNext = rows[:p.Limit], true
	}
	return page, nil
}

// listAfter reads up to limit rows after c (nil: from the start) in order o, with the query
// of that order.
func (s *Service) listAfter(ctx context.Context, f Filter, o Order, c *cursor, limit int32) ([]ListRow, error) {
	var (
		id     *int64
		at     *time.Time
		amount *int64
		text   *string
	)
	if c != nil {
		id, at, amount, text = &c.id, &c.at, &c.amount, &c.text
	}
	sid := f.searchID()
	var rows []queries.ReservationListNewestRow
	var err error
	// The generated rows of every list query have the same fields: each converts to the first's.
	switch o {
	case Order{SortID, true}:
		rows, err = s.q.ReservationListNewest(ctx, queries.ReservationListNewestParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, BeforeID: id, RowLimit: limit})
	case Order{SortID, false}:
		rows, err = convertRows(s.q.ReservationListOldest(ctx, queries.ReservationListOldestParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, AfterID: id, RowLimit: limit}))
	case Order{SortSlot, false}:
		rows, err = convertRows(s.q.ReservationListBySlotAsc(ctx, queries.ReservationListBySlotAscParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, AfterID: id, AfterStartsAt: at, RowLimit: limit}))
	case Order{SortSlot, true}:
		rows, err = convertRows(s.q.ReservationListBySlotDesc(ctx, queries.ReservationListBySlotDescParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, BeforeID: id, BeforeStartsAt: at, RowLimit: limit}))
	case Order{SortAmount, false}:
		rows, err = convertRows(s.q.ReservationListByAmountAsc(ctx, queries.ReservationListByAmountAscParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, AfterID: id, AfterAmountCents: amount, RowLimit: limit}))
	case Order{SortAmount, true}:
		rows, err = convertRows(s.q.ReservationListByAmountDesc(ctx, queries.ReservationListByAmountDescParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, BeforeID: id, BeforeAmountCents: amount, RowLimit: limit}))
	case Order{SortStatus, false}:
		rows, err = convertRows(s.q.ReservationListByStatusAsc(ctx, queries.ReservationListByStatusAscParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, AfterID: id, AfterStatusKey: text, RowLimit: limit}))
	case Order{SortStatus, true}:
		rows, err = convertRows(s.q.ReservationListByStatusDesc(ctx, queries.ReservationListByStatusDescParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, BeforeID: id, BeforeStatusKey: text, RowLimit: limit}))
	case Order{SortCustomer, false}:
		rows, err = convertRows(s.q.ReservationListByCustomerAsc(ctx, queries.ReservationListByCustomerAscParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, AfterID: id, AfterCustomerName: text, RowLimit: limit}))
	case Order{SortCustomer, true}:
		rows, err = convertRows(s.q.ReservationListByCustomerDesc(ctx, queries.ReservationListByCustomerDescParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, BeforeID: id, BeforeCustomerName: text, RowLimit: limit}))
	default:
		return nil, tally.Errorf(tally.EINVALID, "The list cannot be sorted by %q.", o.String())
	}
	out := make([]ListRow, len(rows))
	for i, r := range rows {
		out[i] = listRow(r)
	}
	return out, err
}

// listRows are the rows of any list query: all have the fields of ReservationListNewestRow.
type listRows interface {
	queries.ReservationListOldestRow | queries.ReservationListBySlotAscRow | queries.ReservationListBySlotDescRow |
		queries.ReservationListByAmountAscRow | queries.ReservationListByAmountDescRow |
		queries.ReservationListByStatusAscRow | queries.ReservationListByStatusDescRow |
		queries.ReservationListByCustomerAscRow | queries.ReservationListByCustomerDescRow |
		queries.ReservationListByIDsRow
}

func convertRows[T listRows](rows []T, err error) ([]queries.ReservationListNewestRow, error) {
	out := make([]queries.ReservationListNewestRow, len(rows))
	for i, r := range rows {
		out[i] = queries.ReservationListNewestRow(r)
	}
	return out, err
}

func listRow(r queries.ReservationListNewestRow) ListRow {
	return ListRow{Reservation(r.Reservation), r.SlotStartsAt, r.ResourceName, r.CustomerName, r.CustomerEmail}
}

// Rows returns the given reservations as the list shows them, by id; ids that do not exist
// are left out.
func (s *Service) Rows(ctx context.Context, ids []int64) ([]ListRow, error) {
	rows, err := convertRows(s.q.ReservationListByIDs(ctx, ids))
	out := make([]ListRow, len(rows))
	for i, r := range rows {
		out[i] = listRow(r)
	}
	return out, err
}

// Slot returns slot id with its resource's name, or ENOTFOUND.
func (s *Service) Slot(ctx context.Context, id int64) (Slot, error) {
	r, err := s.q.ReservationFilterSlot(ctx, id)
	if err != nil {
		return Slot{}, notFound(err, "There is no slot %d.", id)
	}
	sl := r.Slot
	return Slot{ID: sl.ID, ResourceID: sl.ResourceID, Resource: r.ResourceName, StartsAt: sl.StartsAt,
		Capacity: sl.Capacity, Reserved: sl.Reserved, PriceCents: sl.PriceCents, Currency: sl.Currency}, nil
}

// CountCap is where the list stops counting: above it, a count says "more than CountCap" or,
// for the whole table, gives the planner's estimate.
const CountCap = 10_000

// countBudget bounds each counting statement. Past it (a broad search of a large table), what
// was not counted is not known.
const countBudget = 250 * time.Millisecond

// Count is a number of reservations as far as it was counted: exactly N, at least N
// (AtLeast), about N (About, an estimate from the table's statistics), or not known (Unknown:
// too many to count in time).
type Count struct {
	N       int64
	AtLeast bool
	About   bool
	Unknown bool
}

// Exact reports whether the count is exact.
func (c Count) Exact() bool { return !c.AtLeast && !c.About && !c.Unknown }

// StatusCounts are the counts of the reservations a filter matches, per status and in all.
type StatusCounts struct {
	ByStatus map[string]Count
	Total    Count
}

// CountByStatus counts the reservations f matches, whatever its Status, per status. Counts
// stay cheap on a large table: up to CountCap they are exact; above it, those of the whole
// table are estimates and those of a filtered list are "at least CountCap". Each count has
// countBudget: past it (a broad search of a large table) what was not counted is Unknown.
func (s *Service) CountByStatus(ctx context.Context, f Filter) (StatusCounts, error) {
	out := StatusCounts{ByStatus: make(map[string]Count, len(Statuses))}
	unknown := func(total Count) (StatusCounts, error) {
		for _, st := range Statuses {
			out.ByStatus[st] = Count{Unknown: true}
		}
		out.Total = total
		return out, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return out, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only: nothing to keep
	q := s.q.WithTx(tx)
	if err := q.ReservationCountBudget(ctx, strconv.FormatInt(countBudget.Milliseconds(), 10)); err != nil {
		return out, err
	}

	sid := f.searchID()
	first, err := q.ReservationCountByStatus(ctx, queries.ReservationCountByStatusParams{
		SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer, StartsFrom: f.StartsFrom,
		StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, Cap: CountCap + 1,
	})
	if timedOut(ctx, err) {
		return unknown(Count{Unknown: true})
	} else if err != nil {
		return out, err
	}
	var seen int64
	for _, c := range first {
		out.ByStatus[c.Status] = Count{N: c.Reservations}
		seen += c.Reservations
	}
	if seen > CountCap {
		// More than the cap in all: count again status by status, each up to the cap.
		each, err := q.ReservationCountEachStatus(ctx, queries.ReservationCountEachStatusParams{
			SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer, StartsFrom: f.StartsFrom,
			StartsBefore: f.StartsBefore, Search: f.Search, SearchID: sid, ID: f.ID, PayoutProblem: f.PayoutProblem, Cap: CountCap + 1, Statuses: Statuses,
		})
		if timedOut(ctx, err) {
			return unknown(Count{N: CountCap, AtLeast: true})
		} else if err != nil {
			return out, err
		}
		estimates := map[string]int64{}
		if !f.narrowed() {
			est, err := q.ReservationEstimateByStatus(ctx)
			if err != nil {
				return out, err
			}
			for _, e := range est {
				estimates[e.Status] = e.Reservations
			}
		}
		for _, c := range each {
			switch n := c.Reservations; {
			case n <= CountCap:
				out.ByStatus[c.Status] = Count{N: n}
			case estimates[c.Status] > CountCap:
				out.ByStatus[c.Status] = Count{N: estimates[c.Status], About: true}
			default:
				out.ByStatus[c.Status] = Count{N: CountCap, AtLeast: true}
			}
		}
	}
	for _, st := range Statuses {
		c := out.ByStatus[st]
		out.ByStatus[st] = c // a status none has is an exact 0
		out.Total.N += c.N
		out.Total.AtLeast = out.Total.AtLeast || c.AtLeast
		out.Total.About = out.Total.About || c.About
	}
	if out.Total.About {
		// A sum with an estimate in it is an estimate: "more than" could claim more than
		// there is, since the estimate may be high.
		out.Total.AtLeast = false
	}
	return out, nil
}

// timedOut reports whether err is a statement timeout of the database (not the request's
// own end).
func timedOut(ctx context.Context, err error) bool {
	var pgErr *pgconn.PgError
	return ctx.Err() == nil && errors.As(err, &pgErr) && pgErr.Code == "57014" // query_canceled
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
