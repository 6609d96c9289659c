package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tally"
	"tally/internal/fixture"
	"tally/queries"
	"tally/reservations"
)

// staffApp is an app with a signed-in staff browser, a slot and a customer.
type staffApp struct {
	*app
	b        *browser
	slot     queries.Slot
	customer queries.Customer
	staff    reservations.Actor
}

func newStaffApp(t *testing.T, capacity int32) *staffApp {
	a := newApp(t)
	u := a.user("kim@example.com", tally.RoleStaff)
	b := a.browser()
	b.signIn("kim@example.com")
	return &staffApp{app: a, b: b, slot: fixture.Slot(t, a.Pool, capacity, 2500), customer: fixture.Customer(t, a.Pool),
		staff: reservations.Actor{ID: u.ID, Email: u.Email}}
}

func (s *staffApp) reserve(seats int32) int64 {
	s.t.Helper()
	out, err := s.Service.Reserve(context.Background(), s.staff, "fixture-key-"+fixture.Unique(),
		reservations.NewReservation{SlotID: s.slot.ID, CustomerID: s.customer.ID, Seats: seats})
	if err != nil {
		s.t.Fatal(err)
	}
	return out.Reservation.ID
}

func (s *staffApp) count(sql string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func TestConcurrentApprovesOverHTTP(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	id := s.reserve(2)

	const n = 100
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := s.b.htmx(fmt.Sprintf("/reservations/%d/approve", id), url.Values{"idempotency_key": {fmt.Sprintf("click-%03d-key", i)}, "view": {"row"}})
			statuses[i], bodies[i] = p.Status, p.Body
		}()
	}
	wg.Wait()
	byStatus := map[int]int{}
	for i, st := range statuses {
		byStatus[st]++
		if st == http.StatusConflict && !strings.Contains(bodies[i], "already approved by kim@example.com") {
			t.Errorf("409 without the reason: %s", bodies[i])
		}
	}
	if byStatus[http.StatusOK] != 1 || byStatus[http.StatusConflict] != n-1 {
		t.Errorf("statuses %v; want 1 × 200 and %d × 409", byStatus, n-1)
	}
	// A refused click shows the row as it now is: approved, with Settle offered.
	for i, st := range statuses {
		if st == http.StatusConflict && (!strings.Contains(bodies[i], `data-status="approved"`) || !strings.Contains(bodies[i], `data-testid="settle"`)) {
			t.Errorf("a 409 without the current row: %s", bodies[i])
			break
		}
	}
	if got := s.count("SELECT count(*) FROM audit_events WHERE record_type = 'reservation' AND record_id = $1 AND action = 'approve'", id); got != 1 {
		t.Errorf("%d approval audit rows, want 1", got)
	}
	if got := s.count("SELECT count(*) FROM river_job WHERE kind = 'notify_customer' AND (args->>'reservation_id')::bigint = $1", id); got != 1 {
		t.Errorf("%d notice jobs, want 1", got)
	}
}

func TestConcurrentReservesForTheLastSeat(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 5)
	s.reserve(4) // one seat left

	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s.b.post("/reservations", url.Values{
				"slot_id": {strconv.FormatInt(s.slot.ID, 10)}, "customer_id": {strconv.FormatInt(s.customer.ID, 10)},
				"seats": {"1"}, "idempotency_key": {fmt.Sprintf("reserve-%03d-key", i)},
			}).Status
		}()
	}
	wg.Wait()
	byStatus := map[int]int{}
	for _, st := range statuses {
		byStatus[st]++
	}
	if byStatus[http.StatusSeeOther] != 1 || byStatus[http.StatusConflict] != n-1 {
		t.Errorf("statuses %v; want 1 × 303 and %d × 409", byStatus, n-1)
	}
	if got := s.count("SELECT count(*) FROM reservations"); got != 2 {
		t.Errorf("%d reservations, want 2", got)
	}
	if got := s.count("SELECT reserved FROM slots WHERE id = $1", s.slot.ID); got != 5 {
		t.Errorf("reserved %d, want 5 (the capacity)", got)
	}
}

func TestIdempotencyOverHTTP(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	form := url.Values{"slot_id": {strconv.FormatInt(s.slot.ID, 10)}, "customer_id": {strconv.FormatInt(s.customer.ID, 10)},
		"seats": {"2"}, "idempotency_key": {"double-submit-key"}}
	first := s.b.post("/reservations", form)
	again := s.b.post("/reservations", form)
	if first.Status != http.StatusSeeOther || again.Status != http.StatusSeeOther || first.Location != again.Location {
		t.Errorf("double submit: %d %q then %d %q", first.Status, first.Location, again.Status, again.Location)
	}
	if got := s.count("SELECT count(*) FROM reservations"); got != 1 {
		t.Errorf("%d reservations after a double submit, want 1", got)
	}
	form.Set("seats", "3")
	if p := s.b.post("/reservations", form); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "already used for a different request") {
		t.Errorf("same key, other seats: %d", p.Status)
	}
	if got := s.count("SELECT reserved FROM slots WHERE id = $1", s.slot.ID); got != 2 {
		t.Errorf("reserved %d, want 2", got)
	}
}

func TestHostileInput(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	id := s.reserve(1)
	huge := strings.Repeat("x", 100_000)
	slot, customer := strconv.FormatInt(s.slot.ID, 10), strconv.FormatInt(s.customer.ID, 10)

	posts := []struct {
		path string
		form url.Values
		want int
	}{
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {customer}, "seats": {"-2"}, "idempotency_key": {"hostile-key-1"}}, 400},
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {customer}, "seats": {"0"}, "idempotency_key": {"hostile-key-2"}}, 400},
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {customer}, "seats": {"two"}, "idempotency_key": {"hostile-key-3"}}, 400},
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {customer}, "seats": {"99999999999999999999"}, "idempotency_key": {"hostile-key-4"}}, 400},
		{"/reservations", url.Values{"slot_id": {"1 OR 1=1"}, "customer_id": {customer}, "seats": {"1"}, "idempotency_key": {"hostile-key-5"}}, 400},
		{"/reservations", url.Values{"slot_id": {"987654"}, "customer_id": {customer}, "seats": {"1"}, "idempotency_key": {"hostile-key-6"}}, 422},
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {huge}, "seats": {"1"}, "idempotency_key": {"hostile-key-7"}}, 400},
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {customer}, "seats": {"1"}, "idempotency_key": {huge}}, 400},
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {customer}, "seats": {"1"}}, 400},
		{"/reservations/abc/approve", url.Values{"idempotency_key": {"hostile-key-8"}}, 400},
		{"/reservations/-5/approve", url.Values{"idempotency_key": {"hostile-key-9"}}, 400},
		{"/reservations/99999999999999999999999/settle", url.Values{"idempotency_key": {"hostile-key-10"}}, 400},
		{fmt.Sprintf("/reservations/%d/destroy", id), url.Values{"idempotency_key": {"hostile-key-11"}}, 404},
		{"/reservations/424242/approve", url.Values{"idempotency_key": {"hostile-key-12"}}, 404},
		{"/reservations/bulk-settle", url.Values{"id": {"1", "x"}}, 400},
		{"/reservations/bulk-settle", url.Values{"slot_id": {"-1"}}, 400},
		{"/reservations/bulk-settle", url.Values{}, 400},
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {customer}, "seats": {"1"}, "idempotency_key": {"bad-utf8-\xff\xfe"}}, 400},
		{"/reservations", url.Values{"slot_id": {slot}, "customer_id": {customer}, "seats": {"1"}, "idempotency_key": {"nul-in-key\x00abc"}}, 400},
	}
	for _, c := range posts {
		p := s.b.post(c.path, c.form)
		if p.Status != c.want {
			t.Errorf("POST %s %v: %d, want %d", c.path, truncate(c.form.Encode()), p.Status, c.want)
		}
		if p.Status >= 400 && !strings.Contains(p.Body, `data-testid="form-error"`) && !strings.Contains(p.Body, `data-testid="error-page"`) {
			t.Errorf("POST %s: no message shown", c.path)
		}
	}
	for _, path := range []string{"/reservations?q=%FF%FE", "/reservations?q=a%00b", "/audit?actor=%C3%28",
		"/reservations?status=bogus", "/reservations?slot=abc", "/reservations?from=yesterday",
		"/reservations?q=" + url.QueryEscape(huge[:500]), "/reservations?sort=sideways", "/reservations/abc", "/reservations/0"} {
		if p := s.b.get(path); p.Status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", path[:min(len(path), 60)], p.Status)
		}
	}
	for _, path := range []string{"/reservations?from=0001-01-01&to=9999-12-31", "/reservations?cursor=9223372036854775807&sort=oldest",
		"/reservations?q=%25%5F%5C", "/audit?before=1&action=" + url.QueryEscape(strings.Repeat("é", 100))} {
		if p := s.b.get(path); p.Status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, p.Status)
		}
	}
	if got := s.count("SELECT count(*) FROM reservations"); got != 1 {
		t.Errorf("%d reservations, want 1", got)
	}
	if got := s.count("SELECT count(*) FROM audit_events WHERE record_type = 'reservation'"); got != 1 {
		t.Errorf("%d audit rows, want 1", got)
	}
}

func truncate(s string) string { return s[:min(len(s), 80)] }

func TestOnlyStaffAct(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	id := s.reserve(1)
	s.user("op@example.com", tally.RoleOperator)
	op := s.browser()
	op.signIn("op@example.com")
	if p := op.htmx(fmt.Sprintf("/reservations/%d/approve", id), url.Values{"idempotency_key": {"operator-key-1"}}); p.Status != http.StatusForbidden {
		t.Errorf("operator approving: %d, want 403", p.Status)
	}
	if p := op.get("/reservations"); p.Status != http.StatusOK || p.Doc.Find(`[data-testid="approve"]`).Length() != 0 {
		t.Errorf("operator's list: %d, with %d approve buttons", p.Status, p.Doc.Find(`[data-testid="approve"]`).Length())
	}
	if got := s.count("SELECT count(*) FROM reservations WHERE status = 'held'"); got != 1 {
		t.Error("the refused request changed the reservation")
	}
}

func TestReservationList(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 200)
	var ids []int64
	for i := 0; i < 60; i++ {
		ids = append(ids, s.reserve(1))
	}
	for _, id := range ids[:5] {
		s.b.htmx(fmt.Sprintf("/reservations/%d/approve", id), url.Values{"idempotency_key": {fmt.Sprintf("list-approve-%d", id)}, "view": {"row"}})
	}

	p := s.b.get("/reservations")
	rows := p.Doc.Find(`[data-testid="reservation-row"]`)
	if rows.Length() != 50 {
		t.Fatalf("first page has %d rows, want 50", rows.Length())
	}
	if first, _ := rows.First().Attr("id"); first != fmt.Sprintf("reservation-%d", ids[59]) {
		t.Errorf("newest first: got %s", first)
	}
	if got := strings.TrimSpace(p.Doc.Find(`[data-testid="count-approved"] .count`).Text()); got != "5" {
		t.Errorf("approved count %q, want 5", got)
	}
	next, ok := p.Doc.Find(`[data-testid="next-page"]`).Attr("href")
	if !ok {
		t.Fatal("no next page link")
	}
	if p2 := s.b.get(next); p2.Doc.Find(`[data-testid="reservation-row"]`).Length() != 10 {
		t.Errorf("second page has %d rows, want 10", p2.Doc.Find(`[data-testid="reservation-row"]`).Length())
	}
	approved := s.b.get("/reservations?status=approved")
	if n := approved.Doc.Find(`[data-testid="reservation-row"]`).Length(); n != 5 {
		t.Errorf("status filter: %d rows, want 5", n)
	}
	search := s.b.get("/reservations?q=" + url.QueryEscape(s.customer.Email))
	if n := search.Doc.Find(`[data-testid="reservation-row"]`).Length(); n != 50 {
		t.Errorf("search by email: %d rows, want a full page", n)
	}
	if n := s.b.get(fmt.Sprintf("/reservations?q=%%23%d", ids[7])).Doc.Find(`[data-testid="reservation-row"]`).Length(); n != 1 {
		t.Errorf("search by #id: %d rows, want 1", n)
	}
	if n := s.b.get("/reservations?q=nobody-like-this").Doc.Find(`[data-testid="reservation-row"]`).Length(); n != 0 {
		t.Errorf("search for nobody: %d rows", n)
	}

	// A row action answers with the new row and a flash.
	row := s.b.htmx(fmt.Sprintf("/reservations/%d/reject", ids[10]), url.Values{"idempotency_key": {"list-reject-key"}, "view": {"row"}})
	if row.Status != http.StatusOK || !strings.Contains(row.Body, `data-status="rejected"`) || !strings.Contains(row.Body, "Rejected reservation") {
		t.Errorf("reject row: %d %s", row.Status, row.Body)
	}
	// Bulk settle of a selection: the approved ones settle, a held one is reported.
	bulk := s.b.htmx("/reservations/bulk-settle", url.Values{"id": {strconv.FormatInt(ids[0], 10), strconv.FormatInt(ids[1], 10), strconv.FormatInt(ids[20], 10)}})
	if bulk.Status != http.StatusOK || !strings.Contains(bulk.Body, "Settled 2; 1 could not be settled") {
		t.Errorf("bulk: %d %s", bulk.Status, bulk.Body)
	}
	// Settling all approved of the slot picks up the three still approved.
	all := s.b.htmx("/reservations/bulk-settle", url.Values{"slot_id": {strconv.FormatInt(s.slot.ID, 10)}})
	if all.Status != http.StatusOK || !strings.Contains(all.Body, "Settled 3; 0 could not be settled") {
		t.Errorf("settle slot: %d %s", all.Status, all.Body)
	}
	if p := s.b.get(fmt.Sprintf("/reservations?slot=%d", s.slot.ID)); p.Doc.Find(`[data-testid="settle-slot"]`).Length() != 1 {
		t.Error("the slot's list has no settle-all button")
	}
	slots := s.b.get(fmt.Sprintf("/slots?resource=%d", s.slot.ResourceID))
	if row := slots.Doc.Find(`[data-testid="slot-row"]`); row.Length() != 1 || !strings.Contains(row.Text(), "59 / 200") {
		t.Errorf("slots page: %d rows: %q", row.Length(), row.Text())
	}
	if p := s.b.get("/slots?resource=abc"); p.Status != http.StatusBadRequest {
		t.Errorf("slots with a bad resource: %d", p.Status)
	}
	detail := s.b.get(fmt.Sprintf("/reservations/%d", ids[0]))
	if detail.Doc.Find(`[data-testid="ledger"] tbody tr`).Length() != 3 || detail.Doc.Find(`[data-testid="audit-row"]`).Length() != 3 {
		t.Errorf("detail: %d ledger rows, %d audit rows", detail.Doc.Find(`[data-testid="ledger"] tbody tr`).Length(), detail.Doc.Find(`[data-testid="audit-row"]`).Length())
	}
	if detail.Doc.Find(`[data-testid="job-row"][data-kind="partner_payout"]`).Length() != 1 {
		t.Error("detail: the payout job is not listed")
	}
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	id := s.reserve(1)
	s.b.htmx(fmt.Sprintf("/reservations/%d/approve", id), url.Values{"idempotency_key": {"audit-approve-key"}, "view": {"row"}})

	p := s.b.get("/audit?action=approve")
	rows := p.Doc.Find(`[data-testid="audit-event"]`)
	if rows.Length() != 1 || !strings.Contains(rows.Text(), "kim@example.com") || !strings.Contains(rows.Text(), "held → approved") {
		t.Errorf("audit filtered by approve: %d rows: %q", rows.Length(), rows.Text())
	}
	if n := s.b.get(fmt.Sprintf("/audit?record_type=reservation&record_id=%d", id)).Doc.Find(`[data-testid="audit-event"]`).Length(); n != 2 {
		t.Errorf("the reservation's events: %d, want reserve and approve", n)
	}
	if n := s.b.get("/").Doc.Find(`[data-testid="audit-event"]`).Length(); n < 2 {
		t.Errorf("dashboard shows %d latest actions", n)
	}
	if p := s.b.get("/audit?record_id=x"); p.Status != http.StatusBadRequest {
		t.Errorf("bad record id: %d", p.Status)
	}
}

func TestNewReservationQuote(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 5)
	s.reserve(4)
	for query, want := range map[string]string{
		"":                       "Choose a slot",
		"slot_id=%d&seats=1":     "1 of 5 seats left · EUR 25.00 a seat · total EUR 25.00",
		"slot_id=%d&seats=2":     "Only 1 seat left on this slot",
		"slot_id=%d&seats=-1":    "Seats must be a whole number",
		"slot_id=%d&seats=lots":  "Seats must be a whole number",
		"slot_id=999999&seats=1": "There is no slot 999999.",
		"slot_id=abc&seats=1":    "Choose a slot.",
	} {
		if strings.Contains(query, "%d") {
			query = fmt.Sprintf(query, s.slot.ID)
		}
		p := s.b.get("/reservations/new/quote?" + query)
		if got := strings.TrimSpace(p.Doc.Find(`[data-testid="quote"]`).Text()); p.Status != http.StatusOK || !strings.Contains(got, want) {
			t.Errorf("quote %q: %d %q, want %q", query, p.Status, got, want)
		}
	}
}

func TestNewReservationPickers(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 5)
	for i := 0; i < 60; i++ {
		fixture.Customer(t, s.Pool)
	}
	p := s.b.get("/reservations/new")
	if n := p.Doc.Find(`#customer-options option[value!=""]`).Length(); n != 50 {
		t.Errorf("the form offers %d customers, want the first 50", n)
	}
	found := s.b.get("/reservations/new/customers?customer_q=" + url.QueryEscape(s.customer.Email))
	if opts := found.Doc.Find(`option[value!=""]`); opts.Length() != 1 || opts.AttrOr("value", "") != strconv.FormatInt(s.customer.ID, 10) {
		t.Errorf("search by email: %d options: %q", opts.Length(), opts.Text())
	}
	if none := s.b.get("/reservations/new/customers?customer_q=zzz-nobody"); !strings.Contains(none.Body, "no customer matches") {
		t.Errorf("search for nobody: %s", none.Body)
	}

	other := fixture.Slot(t, s.Pool, 3, 1000)
	slots := s.b.get(fmt.Sprintf("/reservations/new/slots?slot_resource=%d", other.ResourceID))
	if opts := slots.Doc.Find(`option[value!=""]`); opts.Length() != 1 || opts.AttrOr("value", "") != strconv.FormatInt(other.ID, 10) {
		t.Errorf("slots of one resource: %d options: %q", opts.Length(), opts.Text())
	}
	if later := s.b.get("/reservations/new/slots?slot_from=2999-01-01"); !strings.Contains(later.Body, "no upcoming slot here") {
		t.Errorf("slots from 2999: %s", later.Body)
	}
	if bad := s.b.get("/reservations/new/slots?slot_resource=x"); bad.Status != http.StatusBadRequest {
		t.Errorf("bad resource: %d", bad.Status)
	}
}
