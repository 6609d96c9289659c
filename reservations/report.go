package reservations

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"tally"
	"tally/audit"
	"tally/jobs"
	"tally/queries"
)

// RecordSettlementReport is the audit record type of a settlement report; its record id is
// the day as the number yyyymmdd (20260105), which reads as the day in the audit log.
const RecordSettlementReport = audit.RecordSettlementReport

// SettlementReport is the settlement report of one day (UTC): the day's settlements as CSV.
type SettlementReport struct {
	Day         time.Time // midnight UTC
	Rows        int       // settlements in it; zero is a report that says "nothing", not a missing one
	Bytes       int
	GeneratedAt time.Time
	CSV         []byte // only when read on its own (SettlementReport)
}

// Filename is the name the report downloads as.
func (r SettlementReport) Filename() string {
	return "settlements-" + r.Day.Format(time.DateOnly) + ".csv"
}

// settlementHeader is the first line of every report, the only one of a day without
// settlements. Amounts are decimal in the line's currency; fee and payout are as posted in
// the ledger at the settle (payout = amount - fee).
var settlementHeader = []string{
	"reservation_id", "settled_at", "settled_by", "resource", "slot_id", "slot_starts_at",
	"customer", "customer_email", "seats", "currency", "amount", "fee", "payout",
}

// ParseDay reads a day as YYYY-MM-DD (UTC), the form of the reports' addresses and forms.
func ParseDay(s string) (time.Time, error) {
	day, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return time.Time{}, tally.Errorf(tally.EINVALID, "%q is not a day: use YYYY-MM-DD, e.g. 2026-01-31.", clipRunes(s, 40))
	}
	return day, nil
}

// firstReportDay is the earliest day a report may be asked for: older days are a typo.
var firstReportDay = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteSettlementReport writes the report of day (UTC): its settlements as CSV, a header
// alone when there are none. A report written before for the day is replaced, so running it
// again, from any worker, leaves one report, as of the last run. It returns how many
// settlements the report holds. The settlement_report job runs it.
func (s *Service) WriteSettlementReport(ctx context.Context, day time.Time) (int, error) {
	day = utcDay(day)
	lines, err := s.q.SettlementReportLines(ctx, queries.SettlementReportLinesParams{Since: day, Until: day.AddDate(0, 0, 1)})
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(settlementHeader) //nolint:errcheck // a bytes.Buffer does not fail; w.Error() is checked below
	for _, l := range lines {
		settledAt := ""
		if l.SettledAt != nil {
			settledAt = l.SettledAt.UTC().Format(time.RFC3339)
		}
		w.Write([]string{ //nolint:errcheck // as above
			strconv.FormatInt(l.ID, 10), settledAt, csvText(l.SettledBy), csvText(l.Resource), strconv.FormatInt(l.SlotID, 10),
			l.StartsAt.UTC().Format(time.RFC3339), csvText(l.CustomerName), csvText(l.CustomerEmail),
			strconv.Itoa(int(l.Seats)), l.Currency, centsDecimal(l.AmountCents), centsDecimal(l.FeeCents), centsDecimal(l.PayoutCents),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return 0, err
	}
	if _, err := s.q.SettlementReportSave(ctx, queries.SettlementReportSaveParams{
		Day: reportDate(day), Csv: buf.String(), Rows: int32(len(lines)),
	}); err != nil {
		return 0, err
	}
	return len(lines), nil
}

// SettlementReports lists the reports, newest day first, without their files: limit of them
// before the day before (all when nil).
func (s *Service) SettlementReports(ctx context.Context, before *time.Time, limit int32) ([]SettlementReport, error) {
	p := queries.SettlementReportListParams{RowLimit: limit}
	if before != nil {
		p.Before = reportDate(*before)
	}
	rows, err := s.q.SettlementReportList(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]SettlementReport, len(rows))
	for i, r := range rows {
		out[i] = SettlementReport{Day: r.Day.Time, Rows: int(r.Rows), Bytes: int(r.Bytes), GeneratedAt: r.GeneratedAt}
	}
	return out, nil
}

// SettlementReport returns the report of day, with its file.
func (s *Service) SettlementReport(ctx context.Context, day time.Time) (SettlementReport, error) {
	r, err := s.q.SettlementReportGet(ctx, reportDate(utcDay(day)))
	if err != nil {
		return SettlementReport{}, notFound(err, "There is no settlement report for %s yet: generate it first.", day.Format(time.DateOnly))
	}
	return SettlementReport{Day: r.Day.Time, Rows: int(r.Rows), Bytes: len(r.Csv), GeneratedAt: r.GeneratedAt, CSV: []byte(r.Csv)}, nil
}

// ReportRequest is what asking for a report did.
type ReportRequest struct {
	Day   time.Time
	JobID int64
	// AlreadyQueued is true when a job for the day was already waiting or running: no other
	// was queued, that one will write the report.
	AlreadyQueued bool
	Message       string
}

// RequestSettlementReport queues the settlement_report job of day for actor, audited, in one
// transaction: the job and its audit row are committed together or not at all. A day not
// yet begun is refused; today's report holds the settlements so far.
func (s *Service) RequestSettlementReport(ctx context.Context, actor Actor, day time.Time) (ReportRequest, error) {
	day = utcDay(day)
	switch {
	case day.After(time.Now().UTC()):
		return ReportRequest{}, tally.Errorf(tally.EINVALID, "%s has not begun: there is nothing to report yet.", day.Format(time.DateOnly))
	case day.Before(firstReportDay):
		return ReportRequest{}, tally.Errorf(tally.EINVALID, "Reports start on %s.", firstReportDay.Format(time.DateOnly))
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ReportRequest{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	res, err := s.jobs.InsertTx(ctx, tx, jobs.SettlementReportArgs{Day: day.Format(time.DateOnly)}, nil)
	if err != nil {
		return ReportRequest{}, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		Actor: actor, Action: "settlement_report.generate", RecordType: RecordSettlementReport, RecordID: dayNumber(day),
		Detail: map[string]any{"day": day.Format(time.DateOnly), "job_id": res.Job.ID, "already_queued": res.UniqueSkippedAsDuplicate},
	}); err != nil {
		return ReportRequest{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return ReportRequest{}, err
	}
	out := ReportRequest{Day: day, JobID: res.Job.ID, AlreadyQueued: res.UniqueSkippedAsDuplicate}
	out.Message = fmt.Sprintf("Settlement report for %s queued (job %d); it replaces the day's report in a few seconds.", day.Format(time.DateOnly), res.Job.ID)
	if out.AlreadyQueued {
		out.Message = fmt.Sprintf("A settlement report for %s is already queued (job %d); it will be the day's report.", day.Format(time.DateOnly), res.Job.ID)
	}
	return out, nil
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func reportDate(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }

func dayNumber(day time.Time) int64 {
	y, m, d := day.Date()
	return int64(y*10000 + int(m)*100 + d)
}

// centsDecimal writes cents as a decimal amount, e.g. -1250 as -12.50.
func centsDecimal(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// csvText keeps text a spreadsheet would take for a formula (=, +, -, @, tab, return first)
// as text, with a leading apostrophe: a customer named "=HYPERLINK(...)" stays a name.
func csvText(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

// clipRunes shortens s for a message, so that a hostile value does not fill the page.
func clipRunes(s string, n int) string {
	r := []rune(strings.ToValidUTF8(s, "\uFFFD"))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}
