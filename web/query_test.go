package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"tally"
	"tally/internal/testdb"
)

// seedQueries fills the app's database with skewed data, enough for the planner to prefer an
// index to a scan where one fits: 200 slots (a few busy), 2,000 customers, 30,000
// reservations mostly settled.
func seedQueries(t *testing.T, a *app) {
	t.Helper()
	for _, sql := range []string{
		`INSERT INTO resources (name, kind) SELECT 'Hall ' || g, 'hall' FROM generate_series(1, 5) g`,
		`INSERT INTO slots (resource_id, starts_at, capacity, reserved, price_cents)
		 SELECT (SELECT min(id) FROM resources) + g % 5, now() + g * interval '1 hour', 1000000, 0, 1000 FROM generate_series(1, 200) g`,
		`INSERT INTO customers (name, email) SELECT 'Cleo ' || g, 'cleo' || g || '@example.com' FROM generate_series(1, 2000) g`,
		`INSERT INTO reservations (slot_id, customer_id, seats, amount_cents, currency, status, hold_expires_at, approved_at, settled_at, closed_at)
		 SELECT (SELECT min(id) FROM slots) + floor(200 * power(random(), 4))::int, (SELECT min(id) FROM customers) + floor(2000 * random())::int,
		        1 + g % 100, 1000 * (1 + g % 100), 'EUR', st, now() + interval '1 hour',
		        CASE WHEN st IN ('approved', 'settled') THEN now() END, CASE WHEN st = 'settled' THEN now() END,
		        CASE WHEN st = 'cancelled' THEN now() END
		 FROM generate_series(1, 30000) g,
		      LATERAL (SELECT CASE WHEN g % 10 < 8 THEN 'settled' WHEN g % 10 < 9 THEN 'approved' WHEN g % 20 < 19 THEN 'held' ELSE 'cancelled' END AS st) s`,
		`ANALYZE resources, slots, customers, reservations`,
	} {
		if _, err := a.Pool.Exec(context.Background(), sql); err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
}

func TestQueryCatalogueAndRuns(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	seedQueries(t, a)
	a.user("eng@example.com", tally.RoleEngineer)
	a.user("kim@example.com", tally.RoleStaff)
	eng, staff := a.browser(), a.browser()
	eng.signIn("eng@example.com")
	staff.signIn("kim@example.com")

	// Everyone signed in reads the catalogue and a query's SQL; only engineers get to run it.
	p := staff.get("/queries")
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="catalogue-query"]`).Length() < 20 ||
		p.Doc.Find(`a[data-query="ReservationListNewest"]`).Length() != 1 || p.Doc.Find(`[data-testid="paste-form"]`).Length() != 0 {
		t.Fatalf("catalogue as staff: %d", p.Status)
	}
	p = staff.get("/queries/ReservationListNewest")
	if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find(`[data-testid="query-sql"]`).Text(), "ORDER BY r.id DESC") ||
		p.Doc.Find(`[data-testid="run"]`).Length() != 0 || p.Doc.Find(`[data-testid="param-sets"] a`).Length() < 5 {
		t.Fatalf("workbench as staff: %d", p.Status)
	}
	if p := staff.htmx("/queries/explain", url.Values{"query": {"ReservationListNewest"}}); p.Status != http.StatusForbidden {
		t.Errorf("staff ran a query: %d", p.Status)
	}

	// The busiest slot's parameter set fills the slot id; the engineer runs it.
	p = eng.get("/queries/ReservationListNewest?set=busy-slot")
	slot, _ := p.Doc.Find(`input[name="p2"]`).Attr("value")
	limit, _ := p.Doc.Find(`input[name="p14"]`).Attr("value")
	if slot == "" || limit != "50" || p.Doc.Find(`[data-testid="run"]`).Length() != 1 {
		t.Fatalf("busy-slot set: slot %q, limit %q", slot, limit)
	}
	form := url.Values{"query": {"ReservationListNewest"}, "verbose": {"on"}, "timeout": {"5s"}}
	for i := 1; i <= 14; i++ {
		form.Set("p"+strconv.Itoa(i), "")
	}
	form.Set("p2", slot)
	form.Set("p11", "false") // payout_problem
	form.Set("p14", "50")
	p = eng.htmx("/queries/explain", form)
	if p.Status != http.StatusOK || p.Doc.Find(`#bench [data-testid="plan-node"]`).Length() < 4 ||
		p.Doc.Find(`[data-testid="execution-time"]`).Text() == "" || p.Doc.Find(`[data-testid="plan-json"] pre`).Text() == "" ||
		!strings.Contains(p.Doc.Find(`[data-testid="plan-text"] pre`).Text(), "Execution Time:") {
		t.Fatalf("run: %d\n%s", p.Status, p.Body)
	}
	if got, _ := p.Doc.Find(`input[name="p2"]`).Attr("value"); got != slot {
		t.Errorf("the form lost its slot: %q", got)
	}

	// A pasted statement with $1 asks for it, then runs; a hostile one is refused with the
	// tables unchanged.
	p = eng.htmx("/queries/explain", url.Values{"sql": {"SELECT * FROM reservations WHERE seats = $1"}})
	if p.Status != http.StatusUnprocessableEntity || p.Doc.Find(`input[name="p1"]`).Length() != 1 ||
		!strings.Contains(p.Doc.Find(`[data-testid="run-error"]`).Text(), "1 parameters") {
		t.Fatalf("pasted with $1: %d %s", p.Status, p.Doc.Find(`[data-testid="run-error"]`).Text())
	}
	p = eng.htmx("/queries/explain", url.Values{"sql": {"SELECT * FROM reservations WHERE seats = $1"}, "p1": {"7"}})
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="plan-hints"] li`).Length() == 0 {
		t.Fatalf("pasted run: %d", p.Status)
	}
	// The candidate form offers the scanned table.
	if sel, _ := p.Doc.Find(`select[name="table"] option[selected]`).Attr("value"); sel != "reservations" {
		t.Errorf("candidate table %q", sel)
	}
}

func TestQueryRefusals(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	seedQueries(t, a)
	testdb.AllowErrors(t, "42501", "57014", "25006")
	a.user("eng@example.com", tally.RoleEngineer)
	eng := a.browser()
	eng.signIn("eng@example.com")
	count := func() string {
		var s string
		if err := a.Pool.QueryRow(context.Background(), "SELECT count(*) || '/' || sum(seats) FROM reservations").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := count()
	for sql, want := range map[string]string{
		"DELETE FROM reservations":                                  "DELETE is not a read-only statement",
		"UPDATE reservations SET seats = 1":                         "UPDATE is not a read-only statement",
		"SELECT 1; DELETE FROM reservations":                        "one statement at a time",
		"SELECT * FROM users":                                       "permission denied for table users",
		"SELECT * FROM reservations FOR UPDATE":                     "FOR UPDATE locks",
		"WITH x AS (DELETE FROM reservations RETURNING 1) SELECT 1": "data-modifying WITH",
		"SELECT nextval('reservations_id_seq')":                     "Refused",
	} {
		p := eng.htmx("/queries/explain", url.Values{"sql": {sql}})
		if p.Status < 400 || p.Status >= 500 || !strings.Contains(p.Doc.Find(`[data-testid="run-error"]`).Text(), want) {
			t.Errorf("%s: %d %q", sql, p.Status, p.Doc.Find(`[data-testid="run-error"]`).Text())
		}
	}
	p := eng.htmx("/queries/explain", url.Values{"sql": {"SELECT pg_sleep(60)"}, "timeout": {"1s"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "ran past its 1s timeout") {
		t.Errorf("sleep: %d %q", p.Status, p.Doc.Find(`[data-testid="run-error"]`).Text())
	}
	if after := count(); after != before {
		t.Errorf("reservations changed: %s → %s", before, after)
	}
}

// TestQueryCompareOverHTTP: a hypothetical comparison, then a real one, from the workbench's
// form; the comparison pages show both plans, the timings and the verdict; the candidate
// index is gone afterwards; the list shows both, and a re-run makes a third.
func TestQueryCompareOverHTTP(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	seedQueries(t, a)
	a.user("eng@example.com", tally.RoleEngineer)
	eng := a.browser()
	eng.signIn("eng@example.com")
	form := url.Values{"sql": {"SELECT id, amount_cents FROM reservations WHERE seats = $1"}, "p1": {"7"},
		"table": {"reservations"}, "col1": {"seats"}, "runs": {"4"}}

	form.Set("mode", "hypothetical")
	p := eng.htmx("/queries/compare", form)
	hypo := p.Header.Get("HX-Redirect")
	if p.Status != http.StatusNoContent || !strings.HasPrefix(hypo, "/queries/comparisons/") {
		t.Fatalf("hypothetical: %d %q %s", p.Status, hypo, p.Body)
	}
	p = eng.get(hypo)
	if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find(`[data-testid="verdict"]`).Text(), "would use the candidate index") ||
		p.Doc.Find(`[data-testid="plan-a"] [data-node-type="Seq Scan"]`).Length() != 1 ||
		p.Doc.Find(`[data-testid="plan-b"] [data-node-type="Bitmap Index Scan"], [data-testid="plan-b"] [data-node-type="Index Scan"]`).Length() != 1 ||
		!strings.Contains(p.Doc.Find(`[data-testid="aligned-nodes"]`).Text(), "Seq Scan →") {
		t.Fatalf("hypothetical page: %d %q", p.Status, p.Doc.Find(`[data-testid="verdict"]`).Text())
	}

	form.Set("mode", "real")
	p = eng.post("/queries/compare", form)
	real := p.Location
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(real, "/queries/comparisons/") {
		t.Fatalf("real: %d %q", p.Status, real)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		p = eng.get(real)
		if p.Doc.Find(`[data-testid="comparison-progress"]`).Length() == 0 {
			break
		}
		if pr := eng.get(real + "/progress"); pr.Status != http.StatusOK || pr.Doc.Find(`[data-testid="comparison-phase"]`).Length() != 1 {
			t.Fatalf("progress: %d", pr.Status)
		}
		if time.Now().After(deadline) {
			t.Fatal("the real comparison did not finish in a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if p.Doc.Find(`[data-testid="verdict"]`).Length() != 1 || p.Doc.Find(`[data-testid="run-plot"] [data-testid="run-dot"]`).Length() != 8 ||
		p.Doc.Find(`[data-testid="timings"]`).Length() != 1 || p.Doc.Find(`[data-testid="prediction"]`).Length() != 1 ||
		p.Doc.Find(`[data-testid="plan-b"] [data-node-type="Bitmap Index Scan"], [data-testid="plan-b"] [data-node-type="Index Scan"]`).Length() != 1 {
		t.Fatalf("real page:\n%s", p.Doc.Find("main").Text())
	}
	var left int
	if err := a.Pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'tally_candidate_%'").Scan(&left); err != nil || left != 0 {
		t.Errorf("%d candidate indexes left (%v)", left, err)
	}
	if p := eng.get("/queries/comparisons"); p.Doc.Find(`[data-testid="comparison-row"]`).Length() != 2 {
		t.Errorf("list: %d rows", p.Doc.Find(`[data-testid="comparison-row"]`).Length())
	}
	// After a "migration" that adds the index, a re-run of the hypothetical comparison finds
	// today's plan to be the one the candidate gave then.
	if _, err := a.Pool.Exec(context.Background(), "CREATE INDEX reservations_seats_idx ON reservations (seats)"); err != nil {
		t.Fatal(err)
	}
	p = eng.post(hypo+"/rerun", nil)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("rerun: %d %q", p.Status, p.Location)
	}
	p = eng.get(p.Location)
	if !strings.Contains(p.Body, "Re-run of") || !strings.Contains(p.Doc.Find(`[data-testid="then-and-now-summary"]`).Text(), "the index it tried exists now") {
		t.Errorf("rerun page: %q", p.Doc.Find(`[data-testid="then-and-now-summary"]`).Text())
	}
}
