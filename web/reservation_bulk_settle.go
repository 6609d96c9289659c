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
func (s *Server) reservationBulkSettle(c echo.Context) error {
	ctx := c.Request().Context()
	var res reservations.BulkResult
	if slot := c.FormValue("slot_id"); slot != "" {
		id, perr := strconv.ParseInt(slot, 10, 64)
		if perr != nil || id <= 0 {
			return tally.Errorf(tally.EINVALID, "%q is not a slot id.", slot)
		}
		var err error
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
	b := views.BulkOutcome{Settled: res.Settled, Failed: res.Failed}
	for _, it := range res.Items {
		b.Items = append(b.Items, views.BulkLine{ID: it.ID, Settled: it.Settled, Message: it.Message})
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.BulkResult(b))
	}
	return render(c, http.StatusOK, views.BulkPage(s.page(c, "Bulk settle", "reservations"), b))
}
