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
	return s.reservationAct(c, s.bookings.Approve)
}
func (s *Server) reservationReject(c echo.Context) error {
	return s.reservationAct(c, s.bookings.Reject)
}
func (s *Server) reservationCancel(c echo.Context) error {
	return s.reservationAct(c, s.bookings.Cancel)
}
func (s *Server) reservationSettle(c echo.Context) error {
	return s.reservationAct(c, s.bookings.Settle)
}

// reservationAct runs one action on one reservation. From a list row (htmx, view=row) it
// answers with the row as it now is and a flash; from the reservation's page, a redirect
// back to it with the outcome, or with the reason it was refused.
func (s *Server) reservationAct(c echo.Context, act action) error {
	id, err := pathID(c, "reservation")
	if err != nil {
		return err
	}
	out, err := act(c.Request().Context(), s.actor(c), idempotencyKey(c), id)
	asRow := isHTMX(c) && c.FormValue("view") == "row"
	switch {
	case asRow && tally.ErrorCode(err) == tally.ECONFLICT:
		// The row is stale in this page: show it as it now is, with the reason.
		return s.renderRow(c, id, http.StatusConflict, views.Flash{Kind: "error", Message: tally.ErrorMessage(err)})
	case !asRow && !isHTMX(c) && tally.ErrorCode(err) == tally.ECONFLICT:
		// A stale reservation page: back to it, as it now is, with the reason.
		s.flash(c, "error", tally.ErrorMessage(err))
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/reservations/%d", id))
	case err != nil:
		return err
	case asRow:
		return s.renderRow(c, id, http.StatusOK, views.Flash{Kind: "ok", Message: out.Message})
	}
	s.flash(c, "ok", out.Message)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/reservations/%d", id))
}

// renderRow answers a row action with the reservation's row as it is now and a flash.
func (s *Server) renderRow(c echo.Context, id int64, status int, f views.Flash) error {
	d, err := s.bookings.Detail(c.Request().Context(), id)
	if err != nil {
		return err
	}
	row := reservationRow(d.Row())
	marks, err := s.ops.PayoutMarks(c.Request().Context(), []int64{id})
	if err != nil {
		return err
	}
	row.Payout = marks[id]
	return render(c, status, views.RowWithFlash(s.page(c, "", ""), row, f))
}
