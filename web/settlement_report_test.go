package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"tally"
)

// The reports page lists the daily reports with their downloads; an operator generates a
// day's report again, audited; everyone signed in downloads.
func TestSettlementReportPages(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	a.user("ops@example.com", tally.RoleOperator)
	a.user("kim@example.com", tally.RoleStaff)
	ops, staff := a.browser(), a.browser()
	ops.signIn("ops@example.com")
	staff.signIn("kim@example.com")
	today := time.Now().UTC().Format(time.DateOnly)
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := a.Pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	p := ops.get("/reports")
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="report-generate"]`).Length() != 1 ||
		!strings.Contains(p.Doc.Find(`[data-testid="reports"]`).Text(), "No reports yet") {
		t.Fatalf("reports page for an operator: %d\n%s", p.Status, p.Body)
	}
	if p := staff.get("/reports"); p.Status != http.StatusOK || p.Doc.Find(`[data-testid="report-generate"]`).Length() != 0 {
		t.Errorf("reports page for staff: %d, generate form shown: %d", p.Status, p.Doc.Find(`[data-testid="report-generate"]`).Length())
	}

	p = ops.post("/reports/generate", url.Values{"day": {today}})
	if p.Status != http.StatusSeeOther || p.Location != "/reports" {
		t.Fatalf("generate: %d %q", p.Status, p.Location)
	}
	if flash := ops.get("/reports").Doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(flash, "Settlement report for "+today+" queued") {
		t.Errorf("flash %q", flash)
	}
	if n := count(`SELECT count(*) FROM river_job WHERE kind = 'settlement_report' AND args->>'day' = '` + today + `'`); n != 1 {
		t.Errorf("%d report jobs; want 1", n)
	}
	if n := count(`SELECT count(*) FROM audit_events WHERE action = 'settlement_report.generate' AND actor = 'ops@example.com'`); n != 1 {
		t.Errorf("%d audit rows; want 1", n)
	}

	// Refused: nothing queued, nothing audited.
	for _, day := range []string{"", "2026-02-30", "tomorrow", time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)} {
		p := ops.post("/reports/generate", url.Values{"day": {day}})
		if p.Status != http.StatusBadRequest || p.Doc.Find(`[data-testid="form-error"]`).Length() != 1 {
			t.Errorf("generate %q: %d, want 400 with the reason", day, p.Status)
		}
	}
	if p := staff.post("/reports/generate", url.Values{"day": {today}}); p.Status != http.StatusForbidden {
		t.Errorf("staff generating: %d, want 403", p.Status)
	}
	if n := count(`SELECT count(*) FROM audit_events WHERE action = 'settlement_report.generate'`); n != 1 {
		t.Errorf("%d audit rows after refusals; want 1", n)
	}

	// The job writes it (no workers here: the service does what the job does).
	if _, err := a.Service.WriteSettlementReport(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	row := staff.get("/reports").Doc.Find(`[data-testid="report-row"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), today) || !strings.Contains(row.Text(), "none") {
		t.Errorf("report rows: %q", row.Text())
	}
	href, _ := row.Find(`[data-testid="report-download"]`).Attr("href")
	p = staff.get(href)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") ||
		p.Header.Get("Content-Disposition") != `attachment; filename="settlements-`+today+`.csv"` ||
		!strings.HasPrefix(p.Body, "reservation_id,settled_at,") || strings.Count(p.Body, "\n") != 1 {
		t.Errorf("download %s: %d %v\n%s", href, p.Status, p.Header, p.Body)
	}
	if p := staff.get("/reports/" + today); p.Status != http.StatusOK {
		t.Errorf("download without .csv: %d", p.Status)
	}
	for path, want := range map[string]int{"/reports/2026-02-30.csv": http.StatusBadRequest, "/reports/2001-01-01.csv": http.StatusNotFound, "/reports/x": http.StatusBadRequest} {
		if p := staff.get(path); p.Status != want {
			t.Errorf("GET %s: %d, want %d", path, p.Status, want)
		}
	}
	if p := staff.get("/reports?before=" + today); p.Status != http.StatusOK || p.Doc.Find(`[data-testid="report-row"]`).Length() != 0 {
		t.Errorf("reports before today: %d, %d rows", p.Status, p.Doc.Find(`[data-testid="report-row"]`).Length())
	}
}
