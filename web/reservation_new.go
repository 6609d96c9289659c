package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/reservations"
	"tally/views"
)

func (s *Server) reservationNew(c echo.Context) error {
	f, err := s.newReservationForm(c.Request().Context(), views.NewReservationForm{Seats: "1"})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.NewReservation(s.page(c, "New reservation", "reservations"), f))
}

func (s *Server) newReservationForm(ctx context.Context, f views.NewReservationForm) (views.NewReservationForm, error) {
	f.Key = views.NewKey()
	var err error
	if f.Slots, err = s.slotOptions(ctx, nil, nil); err != nil {
		return f, err
	}
	if f.Resources, err = s.resourceOptions(ctx); err != nil {
		return f, err
	}
	if f.Customers, err = s.customerOptions(ctx, ""); err != nil {
		return f, err
	}
	// Keep a chosen customer on re-render, though the first page of names may not hold them.
	if id, perr := strconv.ParseInt(f.CustomerID, 10, 64); perr == nil && !slices.ContainsFunc(f.Customers, func(o views.Option) bool { return o.Value == f.CustomerID }) {
		if cu, gerr := s.bookings.Customer(ctx, id); gerr == nil {
			f.Customers = append([]views.Option{customerOption(cu)}, f.Customers...)
		}
	}
	return f, nil
}

// slotOptions are the next 200 slots from since (nil: now), of one resource or all.
func (s *Server) slotOptions(ctx context.Context, resourceID *int64, since *time.Time) ([]views.Option, error) {
	slots, err := s.bookings.UpcomingSlots(ctx, resourceID, since, 200)
	options := make([]views.Option, len(slots))
	for i, sl := range slots {
		when := sl.StartsAt.UTC().Format("2006-01-02 (Mon) 15:04 UTC")
		label := fmt.Sprintf("%s · %s · %d left · %s", sl.Resource, when, sl.Left(), reservations.Money(sl.PriceCents, sl.Currency))
		if sl.Left() == 0 {
			label = fmt.Sprintf("%s · %s · sold out", sl.Resource, when)
		}
		options[i] = views.Option{Value: strconv.FormatInt(sl.ID, 10), Label: label, Disabled: sl.Left() == 0}
	}
	return options, err
}

func (s *Server) resourceOptions(ctx context.Context) ([]views.Option, error) {
	resources, err := s.bookings.Resources(ctx)
	options := make([]views.Option, len(resources))
	for i, r := range resources {
		options[i] = views.Option{Value: strconv.FormatInt(r.ID, 10), Label: r.Name}
	}
	return options, err
}

// reservationSlots narrows the slot picker to a resource and a first day.
func (s *Server) reservationSlots(c echo.Context) error {
	resourceID, err := optionalID("resource", c.QueryParam("slot_resource"))
	if err != nil {
		return err
	}
	day, err := optionalDate("from", c.QueryParam("slot_from"))
	if err != nil {
		return err
	}
	options, err := s.slotOptions(c.Request().Context(), resourceID, day)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SlotOptions(options, ""))
}

// customerOptions are the first 50 customers by name whose name or email holds search (all
// when empty): a picker that stays small however many customers there are.
func (s *Server) customerOptions(ctx context.Context, search string) ([]views.Option, error) {
	customers, err := s.bookings.Customers(ctx, search, 50)
	options := make([]views.Option, len(customers))
	for i, cu := range customers {
		options[i] = customerOption(cu)
	}
	return options, err
}

func customerOption(cu reservations.Customer) views.Option {
	return views.Option{Value: strconv.FormatInt(cu.ID, 10), Label: cu.Name + " · " + cu.Email}
}

func (s *Server) reservationCustomers(c echo.Context) error {
	search := strings.TrimSpace(c.QueryParam("customer_q"))
	if err := checkSearch(search); err != nil {
		return err
	}
	options, err := s.customerOptions(c.Request().Context(), search)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.CustomerOptions(options, ""))
}

// reservationQuote answers the new-reservation form while it is filled in: the seats left and
// the price, or what is wrong. It changes nothing; the seats are taken only by Reserve.
func (s *Server) reservationQuote(c echo.Context) error {
	quote := func(kind, format string, args ...any) error {
		return render(c, http.StatusOK, views.Quote(views.Flash{Kind: kind, Message: fmt.Sprintf(format, args...)}))
	}
	if c.QueryParam("slot_id") == "" {
		return quote("info", "Choose a slot and the number of seats.")
	}
	n, err := parseNewReservation(views.NewReservationForm{SlotID: c.QueryParam("slot_id"), CustomerID: "1", Seats: c.QueryParam("seats")})
	if err != nil {
		return quote("error", "%s", tally.ErrorMessage(err))
	}
	switch message, err := s.bookings.Quote(c.Request().Context(), n.SlotID, n.Seats); tally.ErrorCode(err) {
	case "":
		return quote("ok", "%s", message)
	case tally.EINVALID, tally.ENOTFOUND, tally.ECONFLICT:
		return quote("error", "%s", tally.ErrorMessage(err))
	default:
		return err
	}
}

func (s *Server) reservationCreate(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.NewReservationForm{SlotID: c.FormValue("slot_id"), CustomerID: c.FormValue("customer_id"), Seats: c.FormValue("seats")}
	n, err := parseNewReservation(form)
	var out reservations.Outcome
	if err == nil {
		out, err = s.bookings.Reserve(ctx, s.actor(c), idempotencyKey(c), n)
	}
	if code := tally.ErrorCode(err); code == tally.EINVALID || code == tally.ECONFLICT || code == tally.ENOTFOUND {
		form.Error = tally.ErrorMessage(err)
		if form, err = s.newReservationForm(ctx, form); err != nil {
			return err
		}
		status := errorStatus(code)
		if code == tally.ENOTFOUND {
			status = http.StatusUnprocessableEntity
		}
		return render(c, status, views.NewReservation(s.page(c, "New reservation", "reservations"), form))
	} else if err != nil {
		return err
	}
	s.flash(c, "ok", out.Message)
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/reservations/%d", out.Reservation.ID))
}
