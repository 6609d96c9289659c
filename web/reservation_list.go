package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/operations"
	"tally/reservations"
	"tally/views"
)

// pageSize is the list's page size unless the address asks for one of pageSizes.
const pageSize = 50

var pageSizes = []int{25, 50, 100, 200}

// listQuery is the reservations list's whole address: the filter (read in params.go), the
// order, the page size and the page (a keyset cursor, and the position of its first row,
// which only the "Showing 51–100" line uses).
type listQuery struct {
	listFilter
	order         reservations.Order
	size          int
	after, before string
	start         int64 // 1-based; 0 when the address does not say
}

// parseListQuery reads the list's address. The order is o (a sort key) and dir (asc or desc;
// each key has its own default); the older sort=newest|oldest still works.
func parseListQuery(c echo.Context) (listQuery, error) {
	f, err := parseListFilter(c)
	q := listQuery{listFilter: f, order: reservations.Newest, size: pageSize}
	if err != nil {
		return q, err
	}
	key, dir := c.QueryParam("o"), c.QueryParam("dir")
	if key == "" && f.raw.Sort == "oldest" {
		key, dir = string(reservations.SortID), "asc"
	}
	if key != "" {
		if !slices.Contains(reservations.SortKeys, reservations.SortKey(key)) {
			return q, tally.Errorf(tally.EINVALID, "The list cannot be sorted by %q; sort by id, slot, amount, status or customer.", key)
		}
		q.order = reservations.Order{Key: reservations.SortKey(key), Desc: descFirst(reservations.SortKey(key))}
	}
	switch dir {
	case "":
	case "asc", "desc":
		q.order.Desc = dir == "desc"
	default:
		return q, tally.Errorf(tally.EINVALID, "The direction of a sort is asc or desc, not %q.", dir)
	}
	if v := c.QueryParam("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(pageSizes, n) {
			return q, tally.Errorf(tally.EINVALID, "A page shows 25, 50, 100 or 200 reservations, not %q.", v)
		}
		q.size = n
	}
	q.after, q.before = c.QueryParam("after"), c.QueryParam("before")
	if q.after == "" && f.cursor != nil {
		q.after = strconv.FormatInt(*f.cursor, 10) // the older cursor=ID of newest and oldest first
	}
	if q.after != "" && q.before != "" {
		return q, tally.Errorf(tally.EINVALID, "A page starts after one reservation or ends before one, not both.")
	}
	for _, cur := range []string{q.after, q.before} {
		if len(cur) > 300 {
			return q, tally.Errorf(tally.EINVALID, "This page link is broken; start again from the first page.")
		}
	}
	if v := c.QueryParam("start"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 1<<40 {
			return q, tally.Errorf(tally.EINVALID, "start must be the position of a page's first row, not %q.", v)
		}
		q.start = n
	}
	return q, nil
}

// descFirst is the direction a column sorts in when first chosen: newest, dearest first;
// slots, statuses and names from the start of the alphabet or the calendar.
func descFirst(k reservations.SortKey) bool {
	return k == reservations.SortID || k == reservations.SortAmount
}

// url is the list's address under this query with the given changes (pairs of parameter and
// value; an empty value removes it). The page (after, before, start) is kept only when the
// changes set it: anything else starts again at the first page.
func (q listQuery) url(changes ...string) string {
	base := []string{"sort", "", "o", "", "dir", "", "size", ""}
	if q.order != reservations.Newest {
		base = append(base, "o", string(q.order.Key), "dir", direction(q.order.Desc))
	}
	if q.size != pageSize {
		base = append(base, "size", strconv.Itoa(q.size))
	}
	return q.listFilter.url(append(base, changes...)...)
}

// self is the address of the page as it is, to read it again after a change.
func (q listQuery) self() string {
	return q.url("after", q.after, "before", q.before, "start", startText(q.start))
}

func direction(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

func startText(n int64) string {
	if n <= 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func (s *Server) reservationList(c echo.Context) error {
	q, err := parseListQuery(c)
	if err != nil {
		return err
	}
	l, err := s.listPage(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Reservations(s.page(c, "Reservations", "reservations"), l))
}

// listPage reads the page q asks for, with the counts, the sort headers and the pager.
func (s *Server) listPage(ctx context.Context, q listQuery) (views.ReservationList, error) {
	l := views.ReservationList{
		Filter: q.raw, Order: string(q.order.Key), Desc: q.order.Desc, Size: q.size, Sizes: pageSizes,
		AllURL: q.url("status", ""), SelfURL: q.self(), Sorts: map[string]string{},
	}
	if q.order != reservations.Newest {
		l.Filter.Order, l.Filter.Dir = string(q.order.Key), direction(q.order.Desc)
	}
	// The bulk forms post to the list's own address, so that their answer is this page again.
	l.BulkURL = "/reservations/bulk-settle" + q.self()[len("/reservations"):]

	page, counts, err := s.bookings.Browse(ctx, q.filter, reservations.PageRequest{Order: q.order, After: q.after, Before: q.before, Limit: int32(q.size)})
	if err != nil {
		return l, err
	}
	// Settling pays out: the jobs are looked at for settled reservations only (a page of
	// held ones needs no look), and for every row the payout filter chose (a payout put
	// there by hand may belong to another status).
	var settled []int64
	for _, r := range page.Rows {
		l.Rows = append(l.Rows, reservationRow(r))
		if r.Reservation.Status == reservations.StatusSettled || q.filter.PayoutProblem {
			settled = append(settled, r.Reservation.ID)
		}
	}
	if len(settled) > 0 {
		marks, err := s.payoutMarks(ctx, q.filter.PayoutProblem, settled)
		if err != nil {
			return l, err
		}
		for i := range l.Rows {
			l.Rows[i].Payout = marks[l.Rows[i].ID]
		}
	}
	start := q.start
	if page.First {
		start = 1
	}
	l.Start = start
	if n := len(page.Rows); n > 0 {
		first, last := page.Rows[0].Cursor(q.order.Key), page.Rows[n-1].Cursor(q.order.Key)
		if page.HasNext {
			l.NextURL = q.url("after", last, "start", startText(start+int64(n)))
		}
		if page.HasPrev {
			l.PrevURL = q.url("before", first, "start", startText(max(1, start-int64(q.size))))
			l.FirstURL = q.url()
		}
	} else if !page.First {
		l.FirstURL = q.url() // an empty page past the end (a stale link): the way back
	}
	for _, k := range reservations.SortKeys {
		o := reservations.Order{Key: k, Desc: descFirst(k)}
		if k == q.order.Key {
			o.Desc = !q.order.Desc
		}
		sorted := listQuery{listFilter: q.listFilter, order: o, size: q.size}
		l.Sorts[string(k)] = sorted.url()
	}

	l.Total = viewCount(counts.Total)
	l.Matching = l.Total
	for _, st := range reservations.Statuses {
		c := viewCount(counts.ByStatus[st])
		l.Counts = append(l.Counts, views.StatusCount{Status: st, Count: c, URL: q.url("status", st), Active: st == q.raw.Status})
		if st == q.raw.Status {
			l.Matching = c
		}
	}
	resources, err := s.bookings.ResourceNames(ctx)
	if err != nil {
		return l, err
	}
	for _, r := range resources {
		l.Resources = append(l.Resources, views.Option{Value: strconv.FormatInt(r.ID, 10), Label: r.Name})
	}
	if id := q.filter.SlotID; id != nil {
		l.SlotName = "slot " + strconv.FormatInt(*id, 10) + ", which does not exist"
		if sl, err := s.bookings.Slot(ctx, *id); err == nil {
			l.SlotName = views.SlotName(sl.Resource, sl.StartsAt)
		} else if tally.ErrorCode(err) != tally.ENOTFOUND {
			return l, err
		}
	}
	if id := q.filter.Customer; id != nil {
		l.CustomerName = "customer " + strconv.FormatInt(*id, 10) + ", who does not exist"
		if cu, err := s.bookings.Customer(ctx, *id); err == nil {
			l.CustomerName = cu.Name + " (" + cu.Email + ")"
		} else if tally.ErrorCode(err) != tally.ENOTFOUND {
			return l, err
		}
	}
	return l, nil
}

// payoutMarks are the marks of the given reservations. Under the payout filter every row has
// one, and all of them together are usually few: read them all through the jobs' state index
// rather than look each reservation up in the jobs' metadata.
func (s *Server) payoutMarks(ctx context.Context, filtered bool, ids []int64) (map[int64]operations.PayoutMark, error) {
	if filtered {
		all, err := s.ops.PayoutProblems(ctx, operations.MaxMarks)
		if err != nil {
			return nil, err
		}
		if len(all) < operations.MaxMarks {
			marks := make(map[int64]operations.PayoutMark, len(all))
			for _, m := range all {
				marks[m.ReservationID] = m
			}
			return marks, nil
		}
	}
	return s.ops.PayoutMarks(ctx, ids)
}

func viewCount(c reservations.Count) views.Count {
	return views.Count{N: c.N, AtLeast: c.AtLeast, About: c.About, Unknown: c.Unknown}
}

func reservationRow(l reservations.ListRow) views.ReservationRow {
	r := l.Reservation
	return views.ReservationRow{
		ID: r.ID, Status: r.Status, Customer: l.Customer, CustomerEmail: l.CustomerEmail, Resource: l.Resource, SlotStartsAt: l.SlotStartsAt,
		Seats: r.Seats, Amount: reservations.Money(r.AmountCents, r.Currency), HoldExpiresAt: r.HoldExpiresAt,
	}
}
