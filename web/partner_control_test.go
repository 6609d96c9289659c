package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/partnersim"
	"tally/reservations"
	"tally/web"
)

// demoApp is a web server in demo mode whose partner is at partnerURL.
func demoApp(t *testing.T, partnerURL string) *app {
	t.Helper()
	pool := testdb.New(t)
	inserter := fixture.Inserter(t, pool)
	svc := reservations.NewService(pool, inserter, reservations.Config{})
	srv := httptest.NewServer(web.New(web.Config{Demo: true, PartnerURL: partnerURL, Logger: slog.New(slog.DiscardHandler)}, pool, svc, inserter))
	t.Cleanup(srv.Close)
	return &app{t: t, URL: srv.URL, Pool: pool, Service: svc, Jobs: inserter}
}

// In demo mode an operator makes the partner fail and heals it from the browser, audited,
// and sees the circuit breaker as the workers last wrote it.
func TestPartnerControlPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, partnerURL := fixture.Partner(t)
	a := demoApp(t, partnerURL)
	a.user("ops@example.com", tally.RoleOperator)
	a.user("kim@example.com", tally.RoleStaff)
	ops, staff := a.browser(), a.browser()
	ops.signIn("ops@example.com")
	staff.signIn("kim@example.com")
	audits := func() int {
		t.Helper()
		var n int
		if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'partner.faults'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	p := ops.get("/partner")
	circuit := p.Doc.Find(`[data-testid="partner-circuit"]`)
	if st, _ := circuit.Attr("data-state"); p.Status != http.StatusOK || st != "closed" ||
		!strings.Contains(p.Doc.Find(`[data-testid="partner-now"]`).Text(), "answers every call") {
		t.Fatalf("partner page: %d, circuit %q\n%s", p.Status, st, p.Body)
	}
	if p := staff.get("/partner"); p.Status != http.StatusForbidden {
		t.Errorf("partner page for staff: %d, want 403", p.Status)
	}

	p = ops.post("/partner/faults", url.Values{"outage": {"on"}})
	if p.Status != http.StatusSeeOther || p.Location != "/partner" || !sim.Faults().Outage {
		t.Fatalf("start an outage: %d %q, simulator %+v", p.Status, p.Location, sim.Faults())
	}
	if flash := ops.get("/partner").Doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(flash, "outage") {
		t.Errorf("flash %q", flash)
	}
	p = ops.post("/partner/faults", url.Values{"error_rate": {"25"}, "latency_ms": {"150"}})
	if f := sim.Faults(); p.Status != http.StatusSeeOther || f.Outage || f.ErrorRate != 0.25 || f.Latency != 150*time.Millisecond {
		t.Errorf("set error rate and latency: %d, simulator %+v", p.Status, f)
	}
	if got, _ := ops.get("/partner").Doc.Find(`input[name="error_rate"]`).Attr("value"); got != "25" {
		t.Errorf("the form shows an error rate of %q; want the simulator's 25", got)
	}
	if n := audits(); n != 2 {
		t.Errorf("%d audit rows; want 2", n)
	}

	// Refused: the form again with the reason, the simulator and the audit log untouched.
	for _, form := range []url.Values{{"error_rate": {"150"}}, {"error_rate": {"NaN"}}, {"latency_ms": {"-1"}}, {"latency_ms": {"1.5"}}, {"outage": {"maybe"}}} {
		p := ops.post("/partner/faults", form)
		if p.Status != http.StatusBadRequest || p.Doc.Find(`[data-testid="form-error"]`).Length() != 1 {
			t.Errorf("%v: %d, want 400 with the reason", form, p.Status)
		}
	}
	if f := sim.Faults(); f.ErrorRate != 0.25 || audits() != 2 {
		t.Errorf("refused forms changed something: simulator %+v, %d audit rows", f, audits())
	}
	if p := staff.post("/partner/faults", url.Values{"outage": {"on"}}); p.Status != http.StatusForbidden || sim.Faults().Outage {
		t.Errorf("staff starting an outage: %d", p.Status)
	}

	// The circuit as a worker wrote it.
	if _, err := a.Pool.Exec(ctx, `INSERT INTO partner_circuit (partner, state, failures, last_error, opened_at, next_probe_at, worker, changed_at)
		VALUES ('partner', 'open', 5, 'partner /payouts: 503 partner outage', now(), now() + interval '1 minute', 'host:42', now())`); err != nil {
		t.Fatal(err)
	}
	circuit = ops.get("/partner").Doc.Find(`[data-testid="partner-circuit"]`)
	if st, _ := circuit.Attr("data-state"); st != "open" || !strings.Contains(circuit.Text(), "5 failed calls in a row; last: partner /payouts: 503 partner outage") ||
		!strings.Contains(circuit.Text(), "next probe") || !strings.Contains(circuit.Text(), "host:42") {
		t.Errorf("open circuit shown as %q: %s", st, circuit.Text())
	}

	p = ops.post("/partner/faults", nil) // "End every failure"
	if f := sim.Faults(); p.Status != http.StatusSeeOther || f != (partnersim.Faults{Hang: f.Hang}) {
		t.Errorf("heal: %d, simulator %+v", p.Status, f)
	}
}

// A simulator that does not answer is said on the page, not an error page; outside demo
// mode there are no partner controls at all.
func TestPartnerControlPageWithoutSimulator(t *testing.T) {
	t.Parallel()
	a := demoApp(t, "http://127.0.0.1:1")
	a.user("ops@example.com", tally.RoleOperator)
	ops := a.browser()
	ops.signIn("ops@example.com")
	p := ops.get("/partner")
	if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find(`[data-testid="partner-now"]`).Text(), "did not answer") {
		t.Errorf("partner page with the simulator down: %d\n%s", p.Status, p.Body)
	}
	p = ops.post("/partner/faults", url.Values{"outage": {"on"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("set with the simulator down: %d", p.Status)
	}
	if flash := ops.get("/partner").Doc.Find(`[data-testid="flash"]`); !strings.Contains(flash.Text(), "nothing was changed") || !flash.HasClass("flash-error") {
		t.Errorf("flash %q", flash.Text())
	}

	plain := newApp(t)
	plain.user("ops@example.com", tally.RoleOperator)
	b := plain.browser()
	b.signIn("ops@example.com")
	if p := b.get("/partner"); p.Status != http.StatusNotFound {
		t.Errorf("partner page outside demo mode: %d, want 404", p.Status)
	}
	if p := b.post("/partner/faults", url.Values{"outage": {"on"}}); p.Status != http.StatusNotFound {
		t.Errorf("partner faults outside demo mode: %d, want 404", p.Status)
	}
}
