package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/reservations"
	"tally/views"
)

// reservationBulkSettle settles the ticked reservations, or every approved one of a slot.
// The forms post to the list's own address (its query string), so that from htmx the answer
// is that page of the list again, as it now is, with the outcome above its rows and as a toast.
func (s *Server) reservationBulkSettle(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := parseListQuery(c)
	if err != nil {
		return err
	}
	var res reservations.BulkResult
	if slot := c.FormValue("slot_id"); slot != "" {
		id, perr := strconv.ParseInt(slot, 10, 64)
		if perr != nil || id <= 0 {
			return tally.Errorf(tally.EINVALID, "%q is not a slot id.", slot)
		}
		if res, err = s.bookings.SettleSlot(ctx, s.actor(c), id); err != nil {
			return err
		}
	} else {
		ids, err := parseBulkIDs(c)
		if err != nil {
			return err
		}
		if res, err = s.bookings.SettleMany(ctx, s.actor(c), ids); err != nil {
			return err
		}
	}
	b, err := s.bulkOutcome(c, res)
	if err != nil {
		return err
	}
	b.ListURL = list.self()
	if !isHTMX(c) {
		return render(c, http.StatusOK, views.BulkPage(s.page(c, "Bulk settle", "reservations"), b))
	}
	l, err := s.listPage(ctx, list)
	if err != nil {
		return err
	}
	l.Outcome = &b
	return render(c, http.StatusOK, views.BulkListResults(s.page(c, "", ""), l))
}

// bulkOutcome is the result of a bulk settle with whose reservation each line is.
func (s *Server) bulkOutcome(c echo.Context, res reservations.BulkResult) (views.BulkOutcome, error) {
	b := views.BulkOutcome{Settled: res.Settled, Failed: res.Failed, Problem: res.Problem}
	ids := make([]int64, 0, len(res.Items))
	for _, it := range res.Items {
		ids = append(ids, it.ID)
	}
	rows, err := s.bookings.Rows(c.Request().Context(), ids)
	if err != nil {
		return b, err
	}
	byID := make(map[int64]reservations.ListRow, len(rows))
	for _, r := range rows {
		byID[r.Reservation.ID] = r
	}
	for _, it := range res.Items {
		line := views.BulkLine{ID: it.ID, Settled: it.Settled, Message: it.Message}
		if r, ok := byID[it.ID]; ok {
			line.Customer, line.Slot = r.Customer, views.SlotName(r.Resource, r.SlotStartsAt)
		}
		b.Items = append(b.Items, line)
	}
	return b, nil
}
