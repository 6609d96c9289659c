package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"tally"
	"tally/jobs"
	"tally/queries"
	"tally/reservations"
	"tally/views"
)

const pageSize = 50

// listFilter is the reservations list's query string, parsed and checked.
type listFilter struct {
	raw    views.ReservationFilter
	filter reservations.Filter
	cursor *int64
}

// parseListFilter reads the list's query string. Anything malformed is EINVALID naming the
// parameter, so a bad link gives a 400 with a sentence, never a 500.
func parseListFilter(c echo.Context) (listFilter, error) {
	f := listFilter{raw: views.ReservationFilter{
		Status: c.QueryParam("status"), ResourceID: c.QueryParam("resource"), SlotID: c.QueryParam("slot"),
		CustomerID: c.QueryParam("customer"), From: c.QueryParam("from"), To: c.QueryParam("to"),
		Search: strings.TrimSpace(c.QueryParam("q")), Sort: c.QueryParam("sort"),
	}}
	if s := f.raw.Status; s != "" {
		if !slices.Contains(reservations.Statuses, s) {
			return f, tally.Errorf(tally.EINVALID, "Unknown status %q.", s)
		}
		f.filter.Status = &s
	}
	if f.raw.Search != "" {
		if len(f.raw.Search) > 100 {
			return f, tally.Errorf(tally.EINVALID, "The search is too long (100 characters at most).")
		}
		if id, err := strconv.ParseInt(strings.TrimPrefix(f.raw.Search, "#"), 10, 64); err == nil && strings.HasPrefix(f.raw.Search, "#") {
			f.filter.ID = &id // "#42" is reservation 42 and nothing else
		} else {
			f.filter.Search = &f.raw.Search
		}
	}
	if f.raw.Sort != "" && f.raw.Sort != "newest" && f.raw.Sort != "oldest" {
		return f, tally.Errorf(tally.EINVALID, "Sort by newest or oldest.")
	}
	var err error
	for _, p := range []struct {
		name, value string
		dst         **int64
	}{{"resource", f.raw.ResourceID, &f.filter.ResourceID}, {"slot", f.raw.SlotID, &f.filter.SlotID}, {"customer", f.raw.CustomerID, &f.filter.Customer}, {"cursor", c.QueryParam("cursor"), &f.cursor}} {
		if *p.dst, err = optionalID(p.name, p.value); err != nil {
			return f, err
		}
	}
	if f.filter.StartsFrom, err = optionalDate("from", f.raw.From); err != nil {
		return f, err
	}
	if f.filter.StartsBefore, err = optionalDate("to", f.raw.To); err != nil {
		return f, err
	}
	if to := f.filter.StartsBefore; to != nil {
		next := to.AddDate(0, 0, 1) // "to" is inclusive: up to the end of that day
		f.filter.StartsBefore = &next
	}
	return f, nil
}

// url is the list's address with this filter and the given changes (empty value = removed).
func (f listFilter) url(changes ...string) string {
	v := url.Values{}
	for k, val := range map[string]string{"status": f.raw.Status, "resource": f.raw.ResourceID, "slot": f.raw.SlotID,
		"customer": f.raw.CustomerID, "from": f.raw.From, "to": f.raw.To, "q": f.raw.Search, "sort": f.raw.Sort} {
		if val != "" {
			v.Set(k, val)
		}
	}
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "" {
			v.Del(changes[i])
		} else {
			v.Set(changes[i], changes[i+1])
		}
	}
	if len(v) == 0 {
		return "/reservations"
	}
	return "/reservations?" + v.Encode()
}

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

func (s *Server) reservationShow(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "reservation")
	if err != nil {
		return err
	}
	detail, err := s.bookings.Detail(ctx, id)
	if err != nil {
		return err
	}
	r := detail.Reservation
	d := views.ReservationDetail{Row: detail.ReservationDetailRow, Amount: reservations.Money(r.AmountCents, r.Currency), Audit: detail.History}
	for _, e := range detail.Ledger {
		d.Ledger = append(d.Ledger, views.LedgerLine{Txn: e.TxnID.String()[:8], Account: e.Account, Amount: reservations.Money(e.AmountCents, e.Currency), At: e.CreatedAt})
	}
	d.Jobs, err = s.jobsOf(ctx, id)
	if err != nil {
		s.log.Error("listing a reservation's jobs", "err", err, "reservation", id)
		d.JobsErr = "The jobs could not be read just now."
	}
	return render(c, http.StatusOK, views.Reservation(s.page(c, fmt.Sprintf("Reservation #%d", id), "reservations"), d))
}

func (s *Server) reservationJobs(c echo.Context) error {
	id, err := pathID(c, "reservation")
	if err != nil {
		return err
	}
	lines, err := s.jobsOf(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ReservationJobs(id, lines, ""))
}

// jobsOf lists a reservation's jobs through River's client API, by the metadata they carry.
func (s *Server) jobsOf(ctx context.Context, id int64) ([]views.JobLine, error) {
	res, err := s.river.JobList(ctx, river.NewJobListParams().Metadata(jobs.ReservationMetadata(id)).First(50))
	if err != nil {
		return nil, err
	}
	lines := make([]views.JobLine, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		line := views.JobLine{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: string(j.State), Attempt: j.Attempt,
			MaxAttempts: j.MaxAttempts, ScheduledAt: j.ScheduledAt, FinalizedAt: j.FinalizedAt}
		if n := len(j.Errors); n > 0 {
			line.LastError = j.Errors[n-1].Error
		}
		lines = append(lines, line)
	}
	return lines, nil
}

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
	if f.Slots, err = s.slotOptions(ctx, nil, time.Now()); err != nil {
		return f, err
	}
	if f.Resources, err = s.resourceOptions(ctx); err != nil {
		return f, err
	}
	f.Customers, err = s.customerOptions(ctx, "")
	if id, perr := strconv.ParseInt(f.CustomerID, 10, 64); perr == nil && err == nil {
		// Keep a chosen customer on re-render, though the first page of names may not hold them.
		if cu, gerr := s.q.CustomerGet(ctx, id); gerr == nil && !slices.ContainsFunc(f.Customers, func(o views.Option) bool { return o.Value == f.CustomerID }) {
			f.Customers = append([]views.Option{customerOption(cu)}, f.Customers...)
		}
	}
	return f, err
}

// slotOptions are the next 200 slots from since, of one resource or all.
func (s *Server) slotOptions(ctx context.Context, resourceID *int64, since time.Time) ([]views.Option, error) {
	slots, err := s.q.SlotListUpcoming(ctx, queries.SlotListUpcomingParams{Since: since, ResourceID: resourceID, RowLimit: 200})
	options := make([]views.Option, len(slots))
	for i, sl := range slots {
		left, when := sl.Slot.Capacity-sl.Slot.Reserved, sl.Slot.StartsAt.UTC().Format("Mon 2 Jan 15:04")
		label := fmt.Sprintf("%s · %s · %d left · %s", sl.ResourceName, when, left, reservations.Money(sl.Slot.PriceCents, sl.Slot.Currency))
		if left == 0 {
			label = fmt.Sprintf("%s · %s · sold out", sl.ResourceName, when)
		}
		options[i] = views.Option{Value: strconv.FormatInt(sl.Slot.ID, 10), Label: label, Disabled: left == 0}
	}
	return options, err
}

func (s *Server) resourceOptions(ctx context.Context) ([]views.Option, error) {
	resources, err := s.q.ResourceList(ctx)
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
	since := time.Now()
	if day, err := optionalDate("from", c.QueryParam("slot_from")); err != nil {
		return err
	} else if day != nil && day.After(since) {
		since = *day
	}
	options, err := s.slotOptions(c.Request().Context(), resourceID, since)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SlotOptions(options, ""))
}

// customerOptions are the customers whose name or email holds search (all when empty),
// the first 50 by name: a picker that stays small however many customers there are.
func (s *Server) customerOptions(ctx context.Context, search string) ([]views.Option, error) {
	p := queries.CustomerSearchParams{RowLimit: 50}
	if search != "" {
		p.Search = &search
	}
	customers, err := s.q.CustomerSearch(ctx, p)
	options := make([]views.Option, len(customers))
	for i, cu := range customers {
		options[i] = customerOption(cu)
	}
	return options, err
}

func customerOption(cu queries.Customer) views.Option {
	return views.Option{Value: strconv.FormatInt(cu.ID, 10), Label: cu.Name + " · " + cu.Email}
}

func (s *Server) reservationCustomers(c echo.Context) error {
	search := strings.TrimSpace(c.QueryParam("customer_q"))
	if len(search) > 100 {
		return tally.Errorf(tally.EINVALID, "The search is too long (100 characters at most).")
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

func parseNewReservation(f views.NewReservationForm) (reservations.NewReservation, error) {
	var n reservations.NewReservation
	var err error
	if n.SlotID, err = strconv.ParseInt(f.SlotID, 10, 64); err != nil || n.SlotID <= 0 {
		return n, tally.Errorf(tally.EINVALID, "Choose a slot.")
	}
	if n.CustomerID, err = strconv.ParseInt(f.CustomerID, 10, 64); err != nil || n.CustomerID <= 0 {
		return n, tally.Errorf(tally.EINVALID, "Choose a customer.")
	}
	seats, err := strconv.ParseInt(strings.TrimSpace(f.Seats), 10, 32)
	if err != nil {
		return n, tally.Errorf(tally.EINVALID, "Seats must be a whole number from 1 to %d.", reservations.MaxSeats)
	}
	n.Seats = int32(seats)
	return n, n.Validate()
}

// reservationAct runs approve, reject, cancel or settle on one reservation. From a list row
// (htmx, view=row) it answers with the new row and a flash; from a plain form, a redirect to
// the reservation with the flash.
func (s *Server) reservationAct(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "reservation")
	if err != nil {
		return err
	}
	actions := map[string]func(context.Context, reservations.Actor, string, int64) (reservations.Outcome, error){
		"approve": s.bookings.Approve, "reject": s.bookings.Reject, "cancel": s.bookings.Cancel, "settle": s.bookings.Settle,
	}
	act, ok := actions[c.Param("action")]
	if !ok {
		return echo.ErrNotFound
	}
	out, err := act(ctx, s.actor(c), idempotencyKey(c), id)
	asRow := isHTMX(c) && c.FormValue("view") == "row"
	switch {
	case asRow && tally.ErrorCode(err) == tally.ECONFLICT:
		// The row is stale in this page: show it as it now is, with the reason.
		return s.renderRow(c, id, http.StatusConflict, views.Flash{Kind: "error", Message: tally.ErrorMessage(err)})
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
	return render(c, status, views.RowWithFlash(s.page(c, "", ""), reservationRow(reservations.ListRow{
		Reservation: d.Reservation, SlotStartsAt: d.SlotStartsAt, Resource: d.ResourceName, Customer: d.CustomerName, CustomerEmail: d.CustomerEmail,
	}), f))
}

func reservationRow(l reservations.ListRow) views.ReservationRow {
	r := l.Reservation
	return views.ReservationRow{
		ID: r.ID, Status: r.Status, Customer: l.Customer, CustomerEmail: l.CustomerEmail, Resource: l.Resource, SlotStartsAt: l.SlotStartsAt,
		Seats: r.Seats, Amount: reservations.Money(r.AmountCents, r.Currency), HoldExpiresAt: r.HoldExpiresAt,
	}
}

func (s *Server) reservationBulkSettle(c echo.Context) error {
	ctx := c.Request().Context()
	var res reservations.BulkResult
	var err error
	if slot := c.FormValue("slot_id"); slot != "" {
		id, perr := strconv.ParseInt(slot, 10, 64)
		if perr != nil || id <= 0 {
			return tally.Errorf(tally.EINVALID, "%q is not a slot id.", slot)
		}
		res, err = s.bookings.SettleSlot(ctx, s.actor(c), id)
	} else {
		form, _ := c.FormParams()
		if len(form["id"]) > reservations.MaxBulk {
			return tally.Errorf(tally.EINVALID, "Select at most %d reservations at once.", reservations.MaxBulk)
		}
		ids := make([]int64, 0, len(form["id"]))
		for _, v := range form["id"] {
			id, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil || id <= 0 {
				return tally.Errorf(tally.EINVALID, "%q is not a reservation id.", v)
			}
			ids = append(ids, id)
		}
		res, err = s.bookings.SettleMany(ctx, s.actor(c), ids)
	}
	if err != nil {
		return err
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

func (s *Server) slotList(c echo.Context) error {
	ctx := c.Request().Context()
	resourceID, err := optionalID("resource", c.QueryParam("resource"))
	if err != nil {
		return err
	}
	res, err := s.q.ResourceList(ctx)
	if err != nil {
		return err
	}
	resources := make([]views.ResourceLine, len(res))
	for i, r := range res {
		resources[i] = views.ResourceLine{ID: r.ID, Name: r.Name, Kind: r.Kind, Slots: r.Slots, Capacity: r.Capacity, Reserved: r.Reserved}
	}
	list, err := s.q.SlotListUpcoming(ctx, queries.SlotListUpcomingParams{Since: time.Now(), ResourceID: resourceID, RowLimit: 100})
	if err != nil {
		return err
	}
	slots := make([]views.SlotLine, len(list))
	for i, sl := range list {
		slots[i] = views.SlotLine{ID: sl.Slot.ID, Resource: sl.ResourceName, StartsAt: sl.Slot.StartsAt, Capacity: sl.Slot.Capacity,
			Reserved: sl.Slot.Reserved, Price: reservations.Money(sl.Slot.PriceCents, sl.Slot.Currency)}
	}
	var selected int64
	if resourceID != nil {
		selected = *resourceID
	}
	return render(c, http.StatusOK, views.Slots(s.page(c, "Slots", "slots"), resources, slots, selected))
}

// actor is the signed-in user acting through this request.
func (s *Server) actor(c echo.Context) tally.Actor {
	u := currentUser(c)
	return tally.Actor{ID: u.ID, Email: u.Email, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}

// idempotencyKey is the request's key: the Idempotency-Key header (API clients) or the
// idempotency_key field minted into the form when it was rendered.
func idempotencyKey(c echo.Context) string {
	if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
		return k
	}
	return c.FormValue("idempotency_key")
}

func pathID(c echo.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, tally.Errorf(tally.EINVALID, "%q is not a %s id.", c.Param("id"), what)
	}
	return id, nil
}

func optionalID(name, v string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, tally.Errorf(tally.EINVALID, "%s must be a positive whole number, not %q.", name, v)
	}
	return &id, nil
}

func optionalDate(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return nil, tally.Errorf(tally.EINVALID, "%s must be a date like 2026-01-31, not %q.", name, v)
	}
	return &t, nil
}
