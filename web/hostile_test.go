package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"tally"
	"tally/internal/fixture"
	"tally/reservations"
	"tally/web"
)

// hostileParams names, per route, the parameters its handler reads. Every route of the server
// is tried with every parameter here (and every route with the shared ones) set to each hostile
// value.
var hostileParams = map[string][]string{
	"GET /reservations":               {"payout", "status", "resource", "slot", "customer", "from", "to", "q", "sort", "o", "dir", "cursor", "size", "before", "after", "start"},
	"GET /reservations/new/quote":     {"slot_id", "seats"},
	"GET /reservations/new/customers": {"customer_q"},
	"GET /reservations/new/slots":     {"slot_resource", "slot_from"},
	"GET /slots":                      {"resource"},
	"GET /audit":                      {"actor", "action", "record_type", "record_id", "before"},
	"GET /reports":                    {"before"},
	"POST /reports/generate":          {"day"},
	"POST /partner/faults":            {"error_rate", "latency_ms", "outage", "reject"},
	"GET /login":                      {"next", "signed_out"},
	"POST /login":                     {"email", "password", "next"},
	"POST /reservations":              {"slot_id", "customer_id", "seats", "idempotency_key"},
	"POST /reservations/bulk-settle":  {"id", "slot_id"},
	"POST /reservations/:id/approve":  {"idempotency_key", "view"},
	"POST /reservations/:id/reject":   {"idempotency_key", "view"},
	"POST /reservations/:id/cancel":   {"idempotency_key", "view"},
	"POST /reservations/:id/settle":   {"idempotency_key", "view"},
	"POST /users":                     {"email", "name", "role", "password"},
	"POST /users/:id/role":            {"role"},
	"GET /users":                      {"q"},
	"POST /users/:id/password":        {"password", "repeat"},
	"GET /set-password":               {"token"},
	"POST /set-password":              {"token", "password", "repeat"},
	"POST /sign-in-limits/lift":       {"kind", "email", "ip"},
	"GET /jobs":                       {"state", "kind", "queue", "reservation", "error", "pattern", "cursor", "window"},
	"GET /jobs/live":                  {"window"},
	"GET /jobs/preview":               {"action", "state", "kind", "queue", "reservation", "error", "pattern"},
	"POST /jobs/retry":                {"scope", "id", "reason", "state", "kind", "queue", "reservation", "error", "pattern", "cursor", "after", "reached", "done", "requested", "skipped", "matching", "atleast"},
	"POST /jobs/cancel":               {"scope", "id", "reason", "state", "kind", "queue", "reservation", "error", "pattern", "cursor", "after", "reached", "done", "requested", "skipped", "matching", "atleast"},
	"POST /jobs/delete":               {"scope", "id", "reason", "state", "kind", "queue", "reservation", "error", "pattern", "cursor", "after", "reached", "done", "requested", "skipped", "matching", "atleast"},
	"POST /jobs/:id/retry":            {"reason", "then"},
	"POST /jobs/:id/cancel":           {"reason", "then"},
	"POST /jobs/:id/delete":           {"reason", "then"},
	"POST /queues/pause":              {"reason"},
	"POST /queues/resume":             {"reason"},
	"POST /queues/:name/pause":        {"reason"},
	"POST /queues/:name/resume":       {"reason"},
	// Query analysis.
	"GET /queries/:name":       {"set"},
	"GET /queries/candidate":   {"table"},
	"GET /queries/comparisons": {"before"},
	"POST /queries/explain":    {"query", "sql", "p1", "p2", "verbose", "settings", "timeout"},
	"POST /queries/compare":    {"query", "sql", "p1", "timeout", "table", "col1", "col2", "inc1", "predicate", "runs", "mode"},
}

// hostileHeaders are the request headers Tally reads, or that reach its database or log.
var hostileHeaders = []string{"Idempotency-Key", "X-Request-Id", "X-CSRF-Token", "HX-Request", "HX-Current-URL",
	"X-Forwarded-For", "Referer", "User-Agent", "Accept-Language"}

// Values no parameter of Tally's can take: each must be refused plainly and change nothing.
var notText = []string{"\x00", "a\x00b", "\xff\xfe", "caf\xe9", "\xc3\x28", strings.Repeat("x", 100_000)}

// Values no number, id or date can take; text fields (a name, a password) may take them.
var badNumbers = []string{
	"99999999999999999999999", "-9223372036854775809", "-1", "0", "1e309", "NaN", "0x10", " 1", "१२",
	"9999-99-99", "2026-02-30",
}

// numeric parameters hold a number, an id or a date.
var numeric = map[string]bool{"resource": true, "slot": true, "customer": true, "from": true, "to": true, "cursor": true,
	"size": true, "before": true, "after": true, "start": true, "slot_id": true, "seats": true, "slot_resource": true, "slot_from": true,
	"record_id": true, "customer_id": true, "id": true, "day": true, "error_rate": true, "latency_ms": true, "runs": true,
	"reservation": true, "reached": true, "done": true, "requested": true, "matching": true}

// Text a form may well take: it must never break a page or run in it.
var injections = []string{
	`<script>alert("tally")</script>`, `"><img src=x onerror=alert(1)>`, `' OR 1=1 --`, `%_\`,
	`{{.}}`, `javascript:alert(1)`, `//evil.example/`, "/\t/evil.example/",
	strings.Repeat("é", 101), strings.Repeat("😀", 201), strings.Repeat("a", 255),
}

// TestHostileInputEverywhere sends every hostile value in every parameter of every route,
// as an admin (who may use them all), and in every header Tally reads. Nothing may answer
// 5xx, nothing may appear unescaped in a page, and malformed values must change nothing.
func TestHostileInputEverywhere(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.user("root@example.com", tally.RoleAdmin)
	b := a.browser()
	b.signIn("root@example.com")
	slot, customer := fixture.Slot(t, a.Pool, 10, 1000), fixture.Customer(t, a.Pool)
	actor := tally.Actor{ID: admin.ID, Email: admin.Email}
	held := mustReserve(t, a, actor, slot.ID, customer.ID)
	approved := mustReserve(t, a, actor, slot.ID, customer.ID)
	if _, err := a.Service.Approve(context.Background(), actor, "approve-"+fixture.Unique(), approved); err != nil {
		t.Fatal(err)
	}
	target := fixture.User(t, a.Pool, "target@example.com", tally.RoleStaff)

	srv := web.New(web.Config{Logger: slog.New(slog.DiscardHandler)}, a.Pool, a.Service, a.Jobs)
	before := snapshot(t, a)
	check := func(what string, p page, value string, changes bool) {
		t.Helper()
		if p.Status >= 500 {
			t.Errorf("%s = %q: %d", what, short(value), p.Status)
		}
		for _, raw := range []string{`<script>alert("tally")</script>`, `<img src=x onerror`} {
			if strings.Contains(p.Body, raw) {
				t.Errorf("%s = %q: the page holds %s unescaped", what, short(value), raw)
			}
		}
		now := snapshot(t, a)
		if !changes && now != before {
			t.Fatalf("%s = %q changed the data:\nbefore %s\nafter  %s", what, short(value), before, now)
		}
		before = now
	}
	for _, r := range srv.Routes() {
		key := r.Method + " " + r.Path
		if r.Path == "/logout" || strings.HasPrefix(r.Path, "/static") || r.Method == echoRouteNotFound {
			continue
		}
		path := r.Path
		if strings.HasPrefix(path, "/users/") {
			path = strings.Replace(path, ":id", fmt.Sprint(target.ID), 1)
		} else if strings.HasSuffix(path, "/settle") {
			path = strings.Replace(path, ":id", fmt.Sprint(approved), 1)
		} else {
			path = strings.Replace(path, ":id", fmt.Sprint(held), 1)
		}
		for _, v := range slices.Concat(notText, badNumbers, injections) {
			if strings.Contains(r.Path, ":id") {
				hostilePath := strings.Replace(r.Path, ":id", url.PathEscape(v), 1)
				check(key+" :id", send(b, r.Method, hostilePath, true), v, false)
			}
			for _, name := range hostileParams[key] {
				p := sendValues(b, r.Method, path, name, []string{v})
				refused := slices.Contains(notText, v) || numeric[name] && slices.Contains(badNumbers, v)
				check(key+" "+name, p, v, !refused || harmless[name])
				// Duplicated after a good value, which a handler reading the first may act on.
				check(key+" "+name+" (twice)", sendValues(b, r.Method, path, name, []string{"1", v}), v, true)
			}
		}
	}
	for _, h := range hostileHeaders {
		for _, v := range slices.Concat(notText, badNumbers, injections) {
			for _, r := range []struct{ method, path string }{{"GET", "/reservations"}, {"POST", fmt.Sprintf("/reservations/%d/approve", held)}} {
				p := b.raw(r.method, r.path, h, v)
				check("header "+h, p, v, false)
				if id := p.Header.Get("X-Request-Id"); h == "X-Request-Id" && id == v {
					t.Errorf("the client's X-Request-Id %q came back as Tally's", short(v))
				}
			}
		}
	}
	var forged int
	if err := a.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE request_id IS NOT NULL AND request_id !~ '^[0-9a-f]{24}$'`).Scan(&forged); err != nil {
		t.Fatal(err)
	}
	if forged > 0 {
		t.Errorf("%d audit rows carry a request id Tally did not mint", forged)
	}
}

// harmless parameters change how an answer looks, not what an action does.
var harmless = map[string]bool{"view": true, "next": true, "signed_out": true}

func mustReserve(t *testing.T, a *app, actor tally.Actor, slot, customer int64) int64 {
	t.Helper()
	out, err := a.Service.Reserve(context.Background(), actor, "reserve-"+fixture.Unique(),
		reservations.NewReservation{SlotID: slot, CustomerID: customer, Seats: 1})
	if err != nil {
		t.Fatal(err)
	}
	return out.Reservation.ID
}

// sendValues sends name=values to path, as a query (GET) or a form with a fresh key (POST).
func sendValues(b *browser, method, path, name string, values []string) page {
	form := url.Values{name: values}
	if method == http.MethodGet {
		return b.get(path + "?" + form.Encode())
	}
	if name != "idempotency_key" {
		form.Set("idempotency_key", "hostile-"+fixture.Unique()+"-key")
	}
	return b.post(path, form)
}

// snapshot sums up what an action could change: reservations by status, seats taken, and
// the rows of the ledger, the audit log, the accounts and the job queue.
func snapshot(t *testing.T, a *app) string {
	t.Helper()
	var s string
	err := a.Pool.QueryRow(context.Background(), `SELECT concat_ws(' ',
		(SELECT string_agg(status || '=' || n, ',' ORDER BY status) FROM (SELECT status, count(*) n FROM reservations GROUP BY status) x),
		'seats=' || (SELECT sum(reserved) FROM slots), 'ledger=' || (SELECT count(*) FROM ledger_entries),
		'audit=' || (SELECT count(*) FROM audit_events), 'users=' || (SELECT string_agg(role || coalesce(disabled_at::text, ''), ',' ORDER BY id) FROM users),
		'jobs=' || (SELECT count(*) FROM river_job))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// raw sends one request with header name set to value byte for byte, which net/http's client
// refuses to do for control characters: an attacker's client does not refuse.
func (b *browser) raw(method, path, name, value string) page {
	b.t.Helper()
	u, _ := url.Parse(b.app.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		b.t.Fatal(err)
	}
	defer conn.Close()
	body := url.Values{"_csrf": {b.token()}}.Encode()
	var cookies []string
	for _, c := range b.http.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n%s: %s\r\n\r\n%s", method, path, u.Host, strings.Join(cookies, "; "), len(body), name, value, body)
	if _, err := conn.Write([]byte(req)); err != nil {
		b.t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		b.t.Fatalf("%s %s with %s: %v", method, path, name, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, Header: res.Header, Body: string(data)}
}
