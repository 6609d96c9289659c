package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/audit"
	"tally/reservations"
	"tally/views"
)

// This file is where every form and query string is read and checked. Anything malformed
// is EINVALID naming the parameter, so a bad link or a hostile request gets a 400 with a
// sentence, never a 500.

// maxSearch bounds search boxes, in characters.
const maxSearch = 100

// listFilter is the reservations list's query string, parsed and checked.
type listFilter struct {
	raw    views.ReservationFilter
	filter reservations.Filter
	cursor *int64
}

// parseListFilter reads the reservations list's query string.
func parseListFilter(c echo.Context) (listFilter, error) {
	f := listFilter{raw: views.ReservationFilter{
		Status: c.QueryParam("status"), ResourceID: c.QueryParam("resource"), SlotID: c.QueryParam("slot"),
		CustomerID: c.QueryParam("customer"), From: c.QueryParam("from"), To: c.QueryParam("to"),
		Search: strings.TrimSpace(c.QueryParam("q")), Sort: c.QueryParam("sort"), Payout: c.QueryParam("payout"),
	}}
	switch f.raw.Payout {
	case "":
	case "problem":
		f.filter.PayoutProblem = true
	default:
		return f, tally.Errorf(tally.EINVALID, "payout filters by problem (failing or cancelled payouts), not %q.", f.raw.Payout)
	}
	if s := f.raw.Status; s != "" {
		if !slices.Contains(reservations.Statuses, s) {
			return f, tally.Errorf(tally.EINVALID, "Unknown status %q.", s)
		}
		f.filter.Status = &s
	}
	if f.raw.Search != "" {
		if err := checkSearch(f.raw.Search); err != nil {
			return f, err
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
	for k, val := range map[string]string{"payout": f.raw.Payout, "status": f.raw.Status, "resource": f.raw.ResourceID, "slot": f.raw.SlotID,
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

// parseNewReservation reads the new-reservation form.
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

// parseBulkIDs reads the ticked reservations of a bulk settle.
func parseBulkIDs(c echo.Context) ([]int64, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, tally.Errorf(tally.EINVALID, "The request could not be read.")
	}
	values := form["id"]
	if len(values) == 0 {
		return nil, tally.Errorf(tally.EINVALID, "Select at least one reservation to settle.")
	}
	if len(values) > reservations.MaxBulk {
		return nil, tally.Errorf(tally.EINVALID, "Select at most %d reservations at once.", reservations.MaxBulk)
	}
	ids := make([]int64, 0, len(values))
	for _, v := range values {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, tally.Errorf(tally.EINVALID, "%q is not a reservation id.", v)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// parseAuditFilter reads the audit log's query string.
func parseAuditFilter(c echo.Context) (views.AuditFilter, audit.Filter, error) {
	raw := views.AuditFilter{
		Actor: strings.TrimSpace(c.QueryParam("actor")), Action: strings.TrimSpace(c.QueryParam("action")),
		RecordType: c.QueryParam("record_type"), RecordID: c.QueryParam("record_id"),
	}
	f := audit.Filter{Actor: raw.Actor, Action: raw.Action, RecordType: raw.RecordType, Limit: pageSize}
	for _, v := range []string{raw.Actor, raw.Action, raw.RecordType} {
		if utf8.RuneCountInString(v) > 254 {
			return raw, f, tally.Errorf(tally.EINVALID, "A filter is too long.")
		}
	}
	var err error
	if f.RecordID, err = idOrZero("record_id", raw.RecordID); err != nil {
		return raw, f, err
	}
	f.BeforeID, err = idOrZero("before", c.QueryParam("before"))
	return raw, f, err
}

// idempotencyKey is the request's key: the Idempotency-Key header (API clients) or the
// idempotency_key field minted into the form when it was rendered.
func idempotencyKey(c echo.Context) string {
	if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
		return k
	}
	return c.FormValue("idempotency_key")
}

// checkSearch refuses a search box's text that is too long to be a search.
func checkSearch(s string) error {
	if utf8.RuneCountInString(s) > maxSearch {
		return tally.Errorf(tally.EINVALID, "The search is too long (%d characters at most).", maxSearch)
	}
	return nil
}

// pathID is the :id of the address, the id of a what.
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
	id, err := idOrZero(name, v)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

func idOrZero(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, tally.Errorf(tally.EINVALID, "%s must be a positive whole number, not %q.", name, v)
	}
	return id, nil
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
