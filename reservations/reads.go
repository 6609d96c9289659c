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
	page, _, err := s.browse(ctx, f, p, false)
	return page, err
}

// Browse returns one page of the reservations that f matches, as List, and their counts per
// status, as CountByStatus: one read-only transaction, and the search's customers looked up
// once for both.
func (s *Service) Browse(ctx context.Context, f Filter, p PageRequest) (Page, StatusCounts, error) {
	return s.browse(ctx, f, p, true)
}

func (s *Service) browse(ctx context.Context, f Filter, p PageRequest, count bool) (Page, StatusCounts, error) {
	var page Page
	var counts StatusCounts
	if p.Limit <= 0 {
		return page, counts, tally.Errorf(tally.EINVALID, "A page holds at least one reservation.")
	}
	var after, before *cursor
	var err error
	if p.Before != "" {
		if before, err = parseCursor(p.Order.Key, p.Before); err != nil {
			return page, counts, err
		}
	} else if p.After != "" {
		if after, err = parseCursor(p.Order.Key, p.After); err != nil {
			return page, counts, err
		}
	}
	err = s.read(ctx, func(q *queries.Queries) error {
		lk, err := lookUp(ctx, q, f)
		if err != nil {
			return err
		}
		if page, err = listPage(ctx, q, f, lk, p, after, before); err != nil {
			return err
		}
		if count {
			counts, err = countByStatus(ctx, q, f, lk)
		}
		return err
	})
	return page, counts, err
}

// read runs fn in a read-only transaction whose statements are planned for their parameters
// (ReservationReadSettings).
func (s *Service) read(ctx context.Context, fn func(q *queries.Queries) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only: nothing to keep
	q := s.q.WithTx(tx)
	if err := q.ReservationReadSettings(ctx); err != nil {
		return err
	}
	return fn(q) // rolled back: a read has nothing to keep
}

// searchCustomersMax is how many customers a search may find and still be looked up by id.
// A search that finds more is broad: the list walks its order and meets matches soon, with
// the search matched in the query itself.
const searchCustomersMax = 5000

// searchFoundMax is how many reservations of the customers a search found are fetched by id.
// Above it, matches are dense enough for the list to walk its order and meet a page of them
// soon, and the tabs say "more than" that: fetching (and counting) tens of thousands took
// longer than the rest of the page (q=Virtanen, 32,501 reservations: p50 34 ms at 20,000).
const searchFoundMax = 5_000

// payoutIDsMax is how many reservations with a failing payout the payout filter fetches by
// id; past it, they are matched in the query itself.
const payoutIDsMax = 10_000

// lookup is what a filter's search and payout filter found before the list is read: the
// parameters that say how the list and its counts meet them.
type lookup struct {
	// foundIDs are the reservations the search matches, the id it names included; nil when
	// there is no search, or it matches too many to pass (then matched as text).
	foundIDs []int64
	// found counts, per status, the reservations of the customers the search matched: all
	// of them when foundIDs is set, the first searchFoundMax+1 otherwise.
	found map[string]int64
	// searchID is the reservation id the search names, unless foundIDs holds it.
	searchID *int64
	// payoutIDs are the reservations whose payout is failing; nil when not filtered on, or
	// too many.
	payoutIDs []int64
	// none is true when nothing can match: no customer and no id for the search, or no
	// failing payout.
	none bool
}

func lookUp(ctx context.Context, q *queries.Queries, f Filter) (lookup, error) {
	lk := lookup{searchID: f.searchID()}
	if f.Search != nil {
		customers, err := q.CustomerIDsMatching(ctx, queries.CustomerIDsMatchingParams{Search: *f.Search, RowLimit: searchCustomersMax + 1})
		if err != nil {
			return lk, err
		}
		if len(customers) <= searchCustomersMax {
			found, err := q.ReservationsOfCustomers(ctx, queries.ReservationsOfCustomersParams{CustomerIds: customers, RowLimit: searchFoundMax + 1})
			if err != nil {
				return lk, err
			}
			lk.found = make(map[string]int64, len(Statuses))
			for _, r := range found {
				lk.found[r.Status]++
			}
			if len(found) <= searchFoundMax {
				lk.foundIDs = make([]int64, 0, len(found)+1) // never nil: none found matches nothing
				for _, r := range found {
					lk.foundIDs = append(lk.foundIDs, r.ID)
				}
				if lk.searchID != nil {
					// The reservation the number names, unless one of those customers' already.
					r, err := q.ReservationGet(ctx, *lk.searchID)
					if err != nil && !errors.Is(err, pgx.ErrNoRows) {
						return lk, err
					}
					if err == nil && !slices.Contains(customers, r.CustomerID) {
						lk.foundIDs = append(lk.foundIDs, r.ID)
						lk.found[r.Status]++
					}
					lk.searchID = nil
				}
				lk.none = len(lk.foundIDs) == 0
			}
		}
	}
	if f.PayoutProblem {
		ids, err := q.ReservationPayoutProblemIDs(ctx, payoutIDsMax+1)
		if err != nil {
			return lk, err
		}
		switch {
		case len(ids) > payoutIDsMax:
		case len(ids) == 0:
			lk.none = true
		default:
			lk.payoutIDs = ids
		}
	}
	return lk, nil
}

// listPage reads the page p asks for, after or before the parsed cursor.
func listPage(ctx context.Context, q *queries.Queries, f Filter, lk lookup, p PageRequest, after, before *cursor) (Page, error) {
	if lk.none {
		return Page{HasPrev: after != nil || before != nil, First: after == nil && before == nil}, nil
	}
	if before != nil {
		rows, err := listAfter(ctx, q, f, lk, Order{Key: p.Order.Key, Desc: !p.Order.Desc}, before, p.Limit+1)
		if err != nil {
			return Page{}, err
		}
		if len(rows) <= int(p.Limit) {
			// Back at the start: the first page, full, rather than the few rows before the cursor.
			return listPage(ctx, q, f, lk, PageRequest{Order: p.Order, Limit: p.Limit}, nil, nil)
		}
		rows = rows[:p.Limit]
		slices.Reverse(rows)
		return Page{Rows: rows, HasPrev: true, HasNext: true}, nil
	}
	rows, err := listAfter(ctx, q, f, lk, p.Order, after, p.Limit+1)
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
func listAfter(ctx context.Context, q *queries.Queries, f Filter, lk lookup, o Order, c *cursor, limit int32) ([]ListRow, error) {
	var (
		id     *int64
		at     *time.Time
		amount *int64
		text   *string
	)
	if c != nil {
		id, at, amount, text = &c.id, &c.at, &c.amount, &c.text
	}
	var rows []queries.ReservationListNewestRow
	var err error
	// The generated rows of every list query have the same fields: each converts to the first's.
	switch o {
	case Order{SortID, true}:
		rows, err = q.ReservationListNewest(ctx, queries.ReservationListNewestParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, BeforeID: id, RowLimit: limit})
	case Order{SortID, false}:
		rows, err = convertRows(q.ReservationListOldest(ctx, queries.ReservationListOldestParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, AfterID: id, RowLimit: limit}))
	case Order{SortSlot, false}:
		rows, err = convertRows(q.ReservationListBySlotAsc(ctx, queries.ReservationListBySlotAscParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, AfterID: id, AfterStartsAt: at, RowLimit: limit}))
	case Order{SortSlot, true}:
		rows, err = convertRows(q.ReservationListBySlotDesc(ctx, queries.ReservationListBySlotDescParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, BeforeID: id, BeforeStartsAt: at, RowLimit: limit}))
	case Order{SortAmount, false}:
		rows, err = convertRows(q.ReservationListByAmountAsc(ctx, queries.ReservationListByAmountAscParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, AfterID: id, AfterAmountCents: amount, RowLimit: limit}))
	case Order{SortAmount, true}:
		rows, err = convertRows(q.ReservationListByAmountDesc(ctx, queries.ReservationListByAmountDescParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, BeforeID: id, BeforeAmountCents: amount, RowLimit: limit}))
	case Order{SortStatus, false}:
		rows, err = convertRows(q.ReservationListByStatusAsc(ctx, queries.ReservationListByStatusAscParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, AfterID: id, AfterStatusKey: text, RowLimit: limit}))
	case Order{SortStatus, true}:
		rows, err = convertRows(q.ReservationListByStatusDesc(ctx, queries.ReservationListByStatusDescParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, BeforeID: id, BeforeStatusKey: text, RowLimit: limit}))
	case Order{SortCustomer, false}:
		rows, err = convertRows(q.ReservationListByCustomerAsc(ctx, queries.ReservationListByCustomerAscParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, AfterID: id, AfterCustomerName: text, RowLimit: limit}))
	case Order{SortCustomer, true}:
		rows, err = convertRows(q.ReservationListByCustomerDesc(ctx, queries.ReservationListByCustomerDescParams{Status: f.Status, SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer,
			StartsFrom: f.StartsFrom, StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID, ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, BeforeID: id, BeforeCustomerName: text, RowLimit: limit}))
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

// CountCap is where a filtered list stops counting: above it, a count says "more than
// CountCap". The whole list, and the list of one resource, are counted exactly from the kept
// counts (reservation_counts), however many there are.
const CountCap = 10_000

// broadCountCap is how far a filtered list's counts go: exact up to it, which a filter
// counted from an index alone reaches in milliseconds. A search matched as text stops at
// CountCap.
const broadCountCap = 100_000

// Count is a number of reservations as far as it was counted: exactly N, at least N
// (AtLeast), about N (About, an estimate), or not known (Unknown: too many to count in time).
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
// stay cheap on a large table: without a filter, or by resource alone, they are the kept
// counts, exact. Under other filters they are exact up to broadCountCap in all (a search
// alone: searchFoundMax; a search matched as text: CountCap); past it, a status counted past
// CountCap has "more than CountCap" and the others are Unknown.
func (s *Service) CountByStatus(ctx context.Context, f Filter) (StatusCounts, error) {
	var out StatusCounts
	err := s.read(ctx, func(q *queries.Queries) error {
		lk, err := lookUp(ctx, q, f)
		if err != nil {
			return err
		}
		out, err = countByStatus(ctx, q, f, lk)
		return err
	})
	return out, err
}

// tracked reports whether the kept counts answer f: nothing but a resource (and the status,
// which the counts are by) narrows it.
func (f Filter) tracked() bool {
	return f.Search == nil && f.ID == nil && f.SlotID == nil && f.Customer == nil &&
		f.StartsFrom == nil && f.StartsBefore == nil && !f.PayoutProblem
}

// searchOnly reports whether nothing but the search (and the status) narrows f.
func (f Filter) searchOnly() bool {
	return f.ID == nil && f.SlotID == nil && f.ResourceID == nil && f.Customer == nil &&
		f.StartsFrom == nil && f.StartsBefore == nil && !f.PayoutProblem
}

// countByStatus counts as CountByStatus, in q's transaction.
func countByStatus(ctx context.Context, q *queries.Queries, f Filter, lk lookup) (StatusCounts, error) {
	out := StatusCounts{ByStatus: make(map[string]Count, len(Statuses))}
	total := func() (StatusCounts, error) {
		for _, st := range Statuses {
			c := out.ByStatus[st]
			out.ByStatus[st] = c // a status none has is an exact 0
			if c.Unknown {
				continue
			}
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
	switch {
	case lk.none:
		return total()
	case f.tracked():
		kept, err := q.ReservationCountTracked(ctx, f.ResourceID)
		if err != nil {
			return out, err
		}
		for _, c := range kept {
			out.ByStatus[c.Status] = Count{N: c.Reservations}
		}
		return total()
	case lk.found != nil && f.searchOnly() && (lk.foundIDs != nil || f.searchID() == nil):
		// The search alone narrows the list: its lookup has counted what it found.
		for st, n := range lk.found {
			out.ByStatus[st] = Count{N: n}
		}
		if lk.foundIDs != nil {
			return total()
		}
		return pastCap(out, searchFoundMax), nil
	}

	// A search matched as text is counted as far as CountCap: it has no index to count from.
	limit := int64(broadCountCap)
	if f.Search != nil && lk.foundIDs == nil {
		limit = CountCap
	}
	var counted []queries.ReservationCountByStatusRow
	var err error
	if f.ResourceID == nil && f.StartsFrom == nil && f.StartsBefore == nil {
		counted, err = convertCounts(q.ReservationCountByStatusUnjoined(ctx, queries.ReservationCountByStatusUnjoinedParams{
			SlotID: f.SlotID, CustomerID: f.Customer, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID,
			ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, Cap: int32(limit) + 1,
		}))
	} else {
		counted, err = q.ReservationCountByStatus(ctx, queries.ReservationCountByStatusParams{
			SlotID: f.SlotID, ResourceID: f.ResourceID, CustomerID: f.Customer, StartsFrom: f.StartsFrom,
			StartsBefore: f.StartsBefore, Search: f.Search, FoundIds: lk.foundIDs, SearchID: lk.searchID,
			ID: f.ID, PayoutProblem: f.PayoutProblem, PayoutIds: lk.payoutIDs, Cap: int32(limit) + 1,
		})
	}
	if err != nil {
		return out, err
	}
	var seen int64
	for _, c := range counted {
		out.ByStatus[c.Status] = Count{N: c.Reservations}
		seen += c.Reservations
	}
	if seen <= limit {
		return total()
	}
	return pastCap(out, limit), nil
}

func convertCounts(rows []queries.ReservationCountByStatusUnjoinedRow, err error) ([]queries.ReservationCountByStatusRow, error) {
	out := make([]queries.ReservationCountByStatusRow, len(rows))
	for i, r := range rows {
		out[i] = queries.ReservationCountByStatusRow(r)
	}
	return out, err
}

// pastCap turns the counts of the first limit+1 matches into what is known of them all: more
// than limit in all; a status counted past CountCap has more than that; how many the others
// have is not known.
func pastCap(out StatusCounts, limit int64) StatusCounts {
	for _, st := range Statuses {
		if c := out.ByStatus[st]; c.N > CountCap {
			out.ByStatus[st] = Count{N: CountCap, AtLeast: true}
		} else {
			out.ByStatus[st] = Count{Unknown: true}
		}
	}
	out.Total = Count{N: limit, AtLeast: true}
	return out
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
