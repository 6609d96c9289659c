package jobs_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
	"tally/queries"
	"tally/reservations"
)

// A settlement report holds the day's settlements as CSV, is asked for by an operator with
// an audit row and its job in one transaction, and replaces the day's earlier report when
// run again.
func TestSettlementReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	svc := fixture.Service(t, pool)
	inserter := fixture.Inserter(t, pool)
	staff := fixture.User(t, pool, "kim@example.com", tally.RoleStaff)
	operator := fixture.User(t, pool, "ops@example.com", tally.RoleOperator)
	actor := tally.Actor{ID: staff.ID, Email: staff.Email}
	ops := tally.Actor{ID: operator.ID, Email: operator.Email}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	yesterday := today.AddDate(0, 0, -1)

	slot := fixture.Slot(t, pool, 10, 4000)
	// A name a spreadsheet would run as a formula.
	hostile, err := queries.New(pool).CustomerInsert(ctx, queries.CustomerInsertParams{Name: "=HYPERLINK(\"x\")", Email: "formula@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	settle := func(customerID int64, seats int32) int64 {
		t.Helper()
		k := fixture.Unique()
		out, err := svc.Reserve(ctx, actor, "report-reserve-"+k, reservations.NewReservation{SlotID: slot.ID, CustomerID: customerID, Seats: seats})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Approve(ctx, actor, "report-approve-"+k, out.Reservation.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Settle(ctx, actor, "report-settle-"+k, out.Reservation.ID); err != nil {
			t.Fatal(err)
		}
		return out.Reservation.ID
	}
	first := settle(fixture.Customer(t, pool).ID, 2)
	second := settle(hostile.ID, 1)
	// Held, not settled: not in the report.
	if _, err := svc.Reserve(ctx, actor, "report-held-1", reservations.NewReservation{SlotID: slot.ID, CustomerID: hostile.ID, Seats: 1}); err != nil {
		t.Fatal(err)
	}

	// Asked for twice before a worker runs: one job.
	req, err := svc.RequestSettlementReport(ctx, ops, today)
	if err != nil || req.AlreadyQueued {
		t.Fatalf("request: %+v, %v", req, err)
	}
	again, err := svc.RequestSettlementReport(ctx, ops, today)
	if err != nil || !again.AlreadyQueued || again.JobID != req.JobID {
		t.Errorf("second request: %+v, %v; want job %d, already queued", again, err, req.JobID)
	}
	var audited int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'settlement_report.generate'
		AND record_type = 'settlement_report' AND record_id = $1 AND actor_id = $2 AND (detail->>'job_id')::bigint = $3`,
		today.Year()*10000+int(today.Month())*100+today.Day(), operator.ID, req.JobID).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 2 {
		t.Errorf("%d audit rows for the two requests; want 2", audited)
	}

	// Days that cannot have a report: refused, nothing queued, nothing audited.
	for _, day := range []time.Time{today.AddDate(0, 0, 1), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)} {
		if _, err := svc.RequestSettlementReport(ctx, ops, day); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("report for %s: %v; want invalid", day.Format(time.DateOnly), err)
		}
	}
	var jobsQueued int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = 'settlement_report'").Scan(&jobsQueued); err != nil {
		t.Fatal(err)
	}
	if jobsQueued != 1 {
		t.Errorf("%d report jobs; want 1", jobsQueued)
	}

	_, partner := fixture.Partner(t)
	workers := fixture.Workers(t, pool, svc, partner)
	fixture.WaitJob(t, workers, req.JobID, wait, rivertype.JobStateCompleted)
	report, err := svc.SettlementReport(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	lines := readCSV(t, report.CSV)
	if report.Rows != 2 || len(lines) != 3 {
		t.Fatalf("report: %d rows, lines %q; want 2 settlements under a header", report.Rows, lines)
	}
	if lines[0][0] != "reservation_id" || lines[0][len(lines[0])-1] != "payout" {
		t.Errorf("header %q", lines[0])
	}
	fee := reservations.Fee(8000, 290)
	want := map[string]string{"reservation_id": fmt.Sprint(first), "settled_by": "kim@example.com", "seats": "2",
		"currency": "EUR", "amount": "80.00", "fee": cents(fee), "payout": cents(8000 - fee)}
	for col, v := range want {
		if got := field(lines, 1, col); got != v {
			t.Errorf("first line %s = %q, want %q", col, got, v)
		}
	}
	if got := field(lines, 2, "reservation_id"); got != fmt.Sprint(second) {
		t.Errorf("second line is reservation %s, want %d", got, second)
	}
	if got := field(lines, 2, "customer"); got != `'=HYPERLINK("x")` {
		t.Errorf("a formula-like name came out as %q; want it kept as text", got)
	}

	// Run again after a third settlement: the same day's report, replaced.
	settle(fixture.Customer(t, pool).ID, 3)
	res, err := workers.Insert(ctx, jobs.SettlementReportArgs{Day: today.Format(time.DateOnly)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fixture.WaitJob(t, workers, res.Job.ID, wait, rivertype.JobStateCompleted)
	list, err := svc.SettlementReports(ctx, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	var todays []reservations.SettlementReport
	for _, r := range list {
		if r.Day.Equal(today) {
			todays = append(todays, r)
		}
	}
	if len(todays) != 1 || todays[0].Rows != 3 || !todays[0].GeneratedAt.After(report.GeneratedAt) {
		t.Errorf("today's reports after a second run: %+v; want one, of 3 settlements, newer", todays)
	}

	// Workers write yesterday's report when they start: no settlements, a header alone.
	empty := waitReport(t, svc, yesterday)
	if empty.Rows != 0 || len(readCSV(t, empty.CSV)) != 1 {
		t.Errorf("yesterday's report: %d rows, %q; want the header alone", empty.Rows, empty.CSV)
	}
	if list, err = svc.SettlementReports(ctx, nil, 10); err != nil || len(list) != 2 || !list[0].Day.Equal(today) || !list[1].Day.Equal(yesterday) {
		t.Errorf("reports listed %+v, %v; want today's, then yesterday's", list, err)
	}
	if older, err := svc.SettlementReports(ctx, &today, 10); err != nil || len(older) != 1 || !older[0].Day.Equal(yesterday) {
		t.Errorf("reports before today: %+v, %v; want yesterday's", older, err)
	}

	if _, err := svc.SettlementReport(ctx, today.AddDate(0, 0, -30)); tally.ErrorCode(err) != tally.ENOTFOUND {
		t.Errorf("a day never generated: %v; want not found", err)
	}

	// A job whose day is not a day is cancelled, not retried.
	bad, err := inserter.Insert(ctx, jobs.SettlementReportArgs{Day: "2026-02-30"}, &river.InsertOpts{})
	if err != nil {
		t.Fatal(err)
	}
	fixture.WaitJob(t, workers, bad.Job.ID, wait, rivertype.JobStateCancelled)
}

func TestParseDay(t *testing.T) {
	t.Parallel()
	if d, err := reservations.ParseDay("2026-01-31"); err != nil || !d.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("2026-01-31: %v, %v", d, err)
	}
	for _, s := range []string{"", "2026-02-30", "2026-1-31", "31.01.2026", "2026-01-31x", "\xff", "2026-01-31T00:00:00Z"} {
		if _, err := reservations.ParseDay(s); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("%q: %v; want invalid", s, err)
		}
	}
}

func waitReport(t *testing.T, svc *reservations.Service, day time.Time) reservations.SettlementReport {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		r, err := svc.SettlementReport(context.Background(), day)
		if err == nil {
			return r
		} else if tally.ErrorCode(err) != tally.ENOTFOUND || time.Now().After(deadline) {
			t.Fatalf("report of %s: %v", day.Format(time.DateOnly), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	lines, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, b)
	}
	return lines
}

// field is column col of line i, by the header's name.
func field(lines [][]string, i int, col string) string {
	for j, name := range lines[0] {
		if name == col && i < len(lines) && j < len(lines[i]) {
			return lines[i][j]
		}
	}
	return "(no " + col + ")"
}

func cents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
