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

	"github.com/PuerkitoBio/goquery"

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

// listSeed makes n reservations spread over three slots and three customers, with one to
// three seats (so amounts differ), and approves every third one.
func listSeed(t *testing.T, s *staffApp, n int) []int64 {
	t.Helper()
	slots := []queries.Slot{s.slot, fixture.Slot(t, s.Pool, 500, 1000), fixture.Slot(t, s.Pool, 500, 4000)}
	customers := []queries.Customer{s.customer, fixture.Customer(t, s.Pool), fixture.Customer(t, s.Pool)}
	var ids []int64
	for i := 0; i < n; i++ {
		out, err := s.Service.Reserve(context.Background(), s.staff, "list-seed-"+fixture.Unique(),
			reservations.NewReservation{SlotID: slots[i%3].ID, CustomerID: customers[(i/3)%3].ID, Seats: int32(1 + i%5%3)})
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := s.Service.Approve(context.Background(), s.staff, "list-seed-a-"+fixture.Unique(), out.Reservation.ID); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, out.Reservation.ID)
	}
	return ids
}

// ordered is the ids of every reservation in the order the SQL orders them.
func (s *staffApp) ordered(orderBy string) []int64 {
	s.t.Helper()
	rows, err := s.Pool.Query(context.Background(), `SELECT r.id FROM reservations r JOIN slots s ON s.id = r.slot_id
		JOIN customers c ON c.id = r.customer_id ORDER BY `+orderBy)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			s.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func rowIDs(p page) []int64 {
	var ids []int64
	p.Doc.Find(`[data-testid="reservation-row"]`).Each(func(_ int, r *goquery.Selection) {
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.AttrOr("id", ""), "reservation-"), 10, 64)
		ids = append(ids, id)
	})
	return ids
}

// TestReservationListSortsAndPages walks every sort both ways, page by page forward with Next
// and back with Previous, and checks the rows against the database's own ORDER BY.
func TestReservationListSortsAndPages(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 500)
	listSeed(t, s, 57)

	for _, c := range []struct{ o, dir, orderBy string }{
		{"", "", "r.id DESC"},
		{"id", "asc", "r.id ASC"},
		{"slot", "asc", "s.starts_at ASC, r.id ASC"},
		{"slot", "desc", "s.starts_at DESC, r.id DESC"},
		{"amount", "asc", "r.amount_cents ASC, r.id ASC"},
		{"amount", "desc", "r.amount_cents DESC, r.id DESC"},
		{"status", "asc", "r.status ASC, r.id ASC"},
		{"status", "desc", "r.status DESC, r.id DESC"},
		{"customer", "asc", "c.name ASC, r.id ASC"},
		{"customer", "desc", "c.name DESC, r.id DESC"},
	} {
		want := s.ordered(c.orderBy)
		path := "/reservations?size=25"
		if c.o != "" {
			path += "&o=" + c.o + "&dir=" + c.dir
		}
		var got []int64
		var pages []string
		for p := s.b.get(path); ; {
			if p.Status != http.StatusOK {
				t.Fatalf("%s %s: %d", c.o, c.dir, p.Status)
			}
			start := len(got) + 1
			ids := rowIDs(p)
			if showing := strings.TrimSpace(p.Doc.Find(`[data-testid="showing"]`).Text()); showing != fmt.Sprintf("Showing %d–%d of 57", start, start+len(ids)-1) {
				t.Errorf("%s %s page %d: %q", c.o, c.dir, len(pages)+1, showing)
			}
			got = append(got, ids...)
			pages = append(pages, fmt.Sprint(ids))
			next, ok := p.Doc.Find(`[data-testid="next-page"]`).Attr("href")
			if !ok {
				break
			}
			p = s.b.get(next)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("sorted %s %s:\n got %v\nwant %v", c.o, c.dir, got, want)
		}
		if len(pages) != 3 {
			t.Fatalf("sorted %s %s: %d pages of 25, want 3", c.o, c.dir, len(pages))
		}
		// And back: Previous from the last page gives the same pages.
		p := s.b.get(path)
		p = s.b.get(p.Doc.Find(`[data-testid="next-page"]`).AttrOr("href", ""))
		p = s.b.get(p.Doc.Find(`[data-testid="next-page"]`).AttrOr("href", ""))
		for i := 1; i >= 0; i-- {
			prev, ok := p.Doc.Find(`[data-testid="prev-page"]`).Attr("href")
			if !ok {
				t.Fatalf("sorted %s %s: no Previous on page %d", c.o, c.dir, i+2)
			}
			p = s.b.get(prev)
			if fmt.Sprint(rowIDs(p)) != pages[i] {
				t.Errorf("sorted %s %s: Previous to page %d gave %v, want %s", c.o, c.dir, i+1, rowIDs(p), pages[i])
			}
		}
		if p.Doc.Find(`[data-testid="prev-page"]`).Length() != 0 {
			t.Errorf("sorted %s %s: the first page offers Previous", c.o, c.dir)
		}
	}
}

func TestReservationListHeadersAndSizes(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 500)
	listSeed(t, s, 30)

	p := s.b.get("/reservations?status=held&size=25")
	amount, _ := p.Doc.Find(`[data-testid="sort-amount"]`).Attr("href")
	u, _ := url.Parse(amount)
	if q := u.Query(); q.Get("o") != "amount" || q.Get("dir") != "desc" || q.Get("status") != "held" || q.Get("size") != "25" {
		t.Errorf("the Amount header links to %s: want amount, dearest first, under the same filter and size", amount)
	}
	sorted := s.b.get(amount)
	if got := sorted.Doc.Find(`th[aria-sort]`).AttrOr("aria-sort", ""); got != "descending" {
		t.Errorf("sorted column says %q", got)
	}
	again, _ := sorted.Doc.Find(`[data-testid="sort-amount"]`).Attr("href")
	if u, _ := url.Parse(again); u.Query().Get("dir") != "asc" {
		t.Errorf("the sorted header links to %s, want the other way round", again)
	}
	if n := s.b.get("/reservations?size=25").Doc.Find(`[data-testid="reservation-row"]`).Length(); n != 25 {
		t.Errorf("size=25 shows %d rows", n)
	}
	if n := s.b.get("/reservations?size=100").Doc.Find(`[data-testid="reservation-row"]`).Length(); n != 30 {
		t.Errorf("size=100 shows %d rows", n)
	}
	// The older sort=oldest and cursor=ID still work.
	oldest := s.b.get("/reservations?sort=oldest")
	ids := rowIDs(oldest)
	if len(ids) != 30 || ids[0] > ids[1] {
		t.Errorf("sort=oldest: %v", ids)
	}
	if got := rowIDs(s.b.get(fmt.Sprintf("/reservations?sort=oldest&cursor=%d", ids[9]))); len(got) != 20 || got[0] != ids[10] {
		t.Errorf("sort=oldest&cursor: %v", got)
	}
	// Names, not ids: the slot and the customer the list is narrowed to.
	narrowed := s.b.get(fmt.Sprintf("/reservations?slot=%d&customer=%d", s.slot.ID, s.customer.ID))
	hint := narrowed.Doc.Find(`[data-testid="narrowed"]`).Text()
	if !strings.Contains(hint, s.customer.Name) || !strings.Contains(hint, s.slot.StartsAt.UTC().Format("2006-01-02 15:04 UTC")) || strings.Contains(hint, "slot "+strconv.FormatInt(s.slot.ID, 10)) {
		t.Errorf("narrowed list says %q", hint)
	}
	confirm := narrowed.Doc.Find(`[data-testid="settle-slot"]`).Closest("form").AttrOr("hx-confirm", "")
	if !strings.Contains(confirm, " at "+s.slot.StartsAt.UTC().Format("2006-01-02 15:04 UTC")) {
		t.Errorf("settle-slot asks %q", confirm)
	}
	if got := narrowed.Doc.Find(`[data-testid="cancel"]`).First().AttrOr("hx-confirm", ""); !strings.Contains(got, s.customer.Name+"'s reservation #") {
		t.Errorf("cancel asks %q", got)
	}
}

// TestReservationListRefusesHostilePages: a bad sort, direction, size, cursor or position is
// a 400 with a sentence, never a 500; a cursor past the end is an empty page.
func TestReservationListRefusesHostilePages(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	s.reserve(1)
	for path, want := range map[string]string{
		"/reservations?o=bogus":                               "cannot be sorted by",
		"/reservations?o=id%3BDROP":                           "cannot be sorted by",
		"/reservations?o=amount&dir=sideways":                 "asc or desc",
		"/reservations?size=0":                                "25, 50, 100 or 200",
		"/reservations?size=1000":                             "25, 50, 100 or 200",
		"/reservations?size=abc":                              "25, 50, 100 or 200",
		"/reservations?size=-25":                              "25, 50, 100 or 200",
		"/reservations?after=abc":                             "page link is broken",
		"/reservations?after=0":                               "page link is broken",
		"/reservations?before=-5":                             "page link is broken",
		"/reservations?o=amount&after=12":                     "page link is broken",
		"/reservations?o=amount&after=x~12":                   "page link is broken",
		"/reservations?o=amount&after=99999999999999999999~1": "page link is broken",
		"/reservations?o=slot&after=yesterday~3":              "page link is broken",
		"/reservations?o=slot&before=2026-01-01T00:00:00Z~":   "page link is broken",
		"/reservations?o=customer&after=" + url.QueryEscape(strings.Repeat("é", 201)+"~1"): "page link is broken",
		"/reservations?after=" + strings.Repeat("9", 400):                                  "page link is broken",
		"/reservations?after=5&before=6":                                                   "not both",
		"/reservations?start=0":                                                            "start must be",
		"/reservations?start=abc":                                                          "start must be",
		"/reservations?o=slot&cursor=5":                                                    "page link is broken",
	} {
		p := s.b.get(path)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Doc.Find(`[data-testid="error-page"]`).Text(), want) {
			t.Errorf("GET %s: %d %q, want 400 saying %q", path, p.Status, strings.TrimSpace(p.Doc.Find(`[data-testid="error-page"] p`).First().Text()), want)
		}
	}
	for _, path := range []string{"/reservations?after=9223372036854775807", "/reservations?o=amount&dir=asc&after=9223372036854775807~9223372036854775807",
		"/reservations?o=customer&before=" + url.QueryEscape("~~~~~~1"), "/reservations?o=slot&after=" + url.QueryEscape("9999-12-31T23:59:59.999999Z~1"),
		"/reservations?o=status&after=zzz~1&size=200&start=1099511627776"} {
		if p := s.b.get(path); p.Status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, p.Status)
		}
	}
	// From htmx (a filter typed in), the refusal is a toast.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/reservations?size=7", nil)
	req.Header.Set("HX-Request", "true")
	if p := s.b.do(req); p.Status != http.StatusBadRequest || p.Header.Get("HX-Retarget") != "#flash" || !strings.Contains(p.Body, "25, 50, 100 or 200") {
		t.Errorf("htmx with size=7: %d %q %s", p.Status, p.Header.Get("HX-Retarget"), p.Body)
	}
}

// TestReservationListCountsAboveTheCap: the whole list and a resource's are counted exactly
// whatever their size (kept counts); a filtered list is counted exactly up to 100,000, and
// past that says "more than", per status only where it is true, rather than keep staff
// waiting.
func TestReservationListCountsAboveTheCap(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	s.reserve(1)
	insert := func(n int) {
		if _, err := s.Pool.Exec(context.Background(), `INSERT INTO reservations (slot_id, customer_id, seats, amount_cents, currency, hold_expires_at)
			SELECT $1, $2, 1, 2500, 'EUR', now() + interval '1 hour' FROM generate_series(1, $3::int)`, s.slot.ID, s.customer.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	text := func(p page, sel string) string { return strings.TrimSpace(p.Doc.Find(sel).Text()) }
	insert(10_050)
	for _, path := range []string{"/reservations", fmt.Sprintf("/reservations?slot=%d", s.slot.ID), fmt.Sprintf("/reservations?resource=%d", s.slot.ResourceID)} {
		p := s.b.get(path)
		if got := text(p, `[data-testid="count-held"] .count`); got != "10,051" {
			t.Errorf("%s: held %q, want the exact 10,051", path, got)
		}
		if got := text(p, `[data-testid="showing"]`); got != "Showing 1–50 of 10,051" {
			t.Errorf("%s: showing %q", path, got)
		}
	}

	insert(100_000)
	filtered := s.b.get(fmt.Sprintf("/reservations?slot=%d", s.slot.ID))
	if got := text(filtered, `[data-testid="count-held"] .count`); got != "10,000+" {
		t.Errorf("held under a filter past the cap: %q", got)
	}
	if got := text(filtered, `[data-testid="showing"]`); got != "Showing 1–50 of more than 100,000" {
		t.Errorf("showing under a filter past the cap: %q", got)
	}
	approved := filtered.Doc.Find(`[data-testid="count-approved"]`)
	if approved.Find(".count").Length() != 0 || !strings.HasPrefix(approved.AttrOr("title", ""), "Not counted") {
		t.Errorf("approved under a filter past the cap says %q (%q); none were counted, so it cannot say how many",
			approved.Find(".count").Text(), approved.AttrOr("title", ""))
	}
	all := s.b.get("/reservations")
	if got := text(all, `[data-testid="count-held"] .count`); got != "110,051" {
		t.Errorf("held in the whole table: %q, want the exact 110,051", got)
	}
	if got := text(all, `[data-testid="showing"]`); got != "Showing 1–50 of 110,051" {
		t.Errorf("showing: %q", got)
	}
}

// TestBulkSettleAnswersWithTheList: from the list, a bulk settle answers with the same page
// (filter, sort, size) as it now is, the outcome above the rows naming each reservation, and
// a toast.
func TestBulkSettleAnswersWithTheList(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 500)
	ids := listSeed(t, s, 12) // ids[0], [3], [6], [9] approved
	query := "?o=amount&dir=asc&size=25&status=approved"
	bulk := s.b.htmx("/reservations/bulk-settle"+query, url.Values{"id": {strconv.FormatInt(ids[0], 10), strconv.FormatInt(ids[1], 10)}})
	if bulk.Status != http.StatusOK {
		t.Fatalf("bulk: %d %s", bulk.Status, bulk.Body)
	}
	if got := bulk.Doc.Find(`#flash[hx-swap-oob] [data-testid="flash"]`).Text(); got != "Settled 1; 1 could not be settled." {
		t.Errorf("toast: %q", got)
	}
	result := bulk.Doc.Find(`#reservation-results [data-testid="bulk-result"]`)
	if result.Length() != 1 || !strings.Contains(result.Find(`[data-testid="bulk-item"]`).First().Text(), s.customer.Name) {
		t.Errorf("the outcome does not name the customer: %q", result.Text())
	}
	if n := bulk.Doc.Find(`[data-testid="reservation-row"]`).Length(); n != 3 {
		t.Errorf("the approved list after settling one of four holds %d rows", n)
	}
	if got := strings.TrimSpace(bulk.Doc.Find(`[data-testid="count-settled"] .count`).Text()); got != "1" {
		t.Errorf("settled count after the bulk: %q", got)
	}
	if got := bulk.Doc.Find(`th[aria-sort]`).Find("a").AttrOr("data-testid", ""); got != "sort-amount" {
		t.Errorf("the answer lost the sort: %q", got)
	}
	if bad := s.b.htmx("/reservations/bulk-settle?size=3", url.Values{"id": {strconv.FormatInt(ids[3], 10)}}); bad.Status != http.StatusBadRequest {
		t.Errorf("bulk from a bad list address: %d", bad.Status)
	}
	if got := s.count("SELECT count(*) FROM reservations WHERE status = 'settled'"); got != 1 {
		t.Errorf("%d settled, want 1 (a refused request settles nothing)", got)
	}
}
