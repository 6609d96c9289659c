package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/reservations"
	"tally/views"
)

// action is one of the reservation actions of the reservations package.
type action func(context.Context, reservations.Actor, string, int64) (reservations.Outcome, error)

func (s *Server) reservationApprove(c echo.Context) error {
	return s.reservationAct(c, "approve", s.bookings.Approve)
}
func (s *Server) reservationReject(c echo.Context) error {
	return s.reservationAct(c, "reject", s.bookings.Reject)
}
func (s *Server) reservationCancel(c echo.Context) error {
	return s.reservationAct(c, "cancel", s.bookings.Cancel)
}
func (s *Server) reservationSettle(c echo.Context) error {
	return s.reservationAct(c, "settle", s.bookings.Settle)
}

// reservationAct runs one action on one reservation. From a list row (htmx, view=row) it
// answers with the row as it now is and a flash; from the reservation's page, a redirect
// back to it with the outcome, or with the reason it was refused. name labels its outcome
// in /metrics.
func (s *Server) reservationAct(c echo.Context, name string, act action) error {
	id, err := pathID(c, "reservation")
	if err != nil {
		return err
	}
	out, err := act(c.Request().Context(), s.actor(c), idempotencyKey(c), id)
	s.metrics.Action(name, out.Replayed, err)
	asRow := isHTMX(c) && c.FormValue("view") == "row"
	switch {
	case asRow && tally.ErrorCode(err) == tally.ECONFLICT:
		// The row is stale in this page: show it as it now is, with the reason.
		return s.renderRow(c, id, true, http.StatusConflict, views.Flash{Kind: "error", Message: tally.ErrorMessage(err)})
	case !asRow && !isHTMX(c) && tally.ErrorCode(err) == tally.ECONFLICT:
		// A stale reservation page: back to it, as it now is, with the reason.
		s.flash(c, "error", tally.ErrorMessage(err))
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/reservations/%d", id))
	case err != nil:
		return err
	case asRow:
		// A payout can be failing only for a reservation settled earlier: one this request
		// just changed has none yet, whereas a replay may be of a settle long done.
		return s.renderRow(c, id, out.Replayed, http.StatusOK, views.Flash{Kind: "ok", Message: out.Message})
	}
	s.flash(c, "ok", out.Message)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/reservations/%d", id))
}

// renderRow answers a row action with the reservation's row as it is now and a flash: one
// read of the row (not the reservation's whole page), and its payout mark when withPayout.
func (s *Server) renderRow(c echo.Context, id int64, withPayout bool, status int, f views.Flash) error {
	ctx := c.Request().Context()
	rows, err := s.bookings.Rows(ctx, []int64{id})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return tally.Errorf(tally.ENOTFOUND, "There is no reservation #%d.", id)
	}
	row := reservationRow(rows[0])
	if withPayout {
		marks, err := s.ops.PayoutMarks(ctx, []int64{id})
		if err != nil {
			return err
		}
		row.Payout = marks[id]
	}
	return render(c, status, views.RowWithFlash(s.page(c, "", ""), row, f))
}
