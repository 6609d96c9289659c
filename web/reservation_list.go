package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"tally/reservations"
	"tally/views"
)

const pageSize = 50

func (s *Server) reservationList(c echo.Context) error {
	ctx := c.Request().Context()
	f, err := parseListFilter(c)
	if err != nil {
		return err
	}
	l := views.ReservationList{Filter: f.raw, AllURL: f.url("status", "")}
	rows, err := s.bookings.List(ctx, f.filter, reservations.PageRequest{Oldest: f.raw.Sort == "oldest", Cursor: f.cursor, Limit: pageSize})
	if err != nil {
		return err
	}
	for _, r := range rows {
		l.Rows = append(l.Rows, reservationRow(r))
	}
	if len(l.Rows) == pageSize {
		l.NextURL = f.url("cursor", strconv.FormatInt(l.Rows[len(l.Rows)-1].ID, 10))
	}
	if f.cursor != nil {
		l.FirstURL = f.url()
	}
	counts, err := s.bookings.CountByStatus(ctx, f.filter)
	if err != nil {
		return err
	}
	for _, st := range reservations.Statuses {
		l.Total += counts[st]
		l.Counts = append(l.Counts, views.StatusCount{Status: st, Count: counts[st], URL: f.url("status", st), Active: st == f.raw.Status})
	}
	if l.Resources, err = s.resourceOptions(ctx); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Reservations(s.page(c, "Reservations", "reservations"), l))
}

func reservationRow(l reservations.ListRow) views.ReservationRow {
	r := l.Reservation
	return views.ReservationRow{
		ID: r.ID, Status: r.Status, Customer: l.Customer, CustomerEmail: l.CustomerEmail, Resource: l.Resource, SlotStartsAt: l.SlotStartsAt,
		Seats: r.Seats, Amount: reservations.Money(r.AmountCents, r.Currency), HoldExpiresAt: r.HoldExpiresAt,
	}
}
