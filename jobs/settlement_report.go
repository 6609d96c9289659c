package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// SettlementReportArgs writes the settlement report of a day.
type SettlementReportArgs struct {
	// Day is the day (UTC) as YYYY-MM-DD.
	Day string `json:"day"`
}

// Kind is the job's name in River.
func (SettlementReportArgs) Kind() string { return "settlement_report" }

// InsertOpts: the maintenance queue, and one job per day waiting or running at a time — a
// second request for a day already queued is the same report. A finished or failed job does
// not count, so a day can always be generated again.
func (SettlementReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 10, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled},
	}}
}

// SettlementReporter writes the settlement report of a day (UTC), replacing any earlier one
// of that day, and returns how many settlements it holds.
type SettlementReporter interface {
	WriteSettlementReport(ctx context.Context, day time.Time) (int, error)
}

// SettlementReportWorker works SettlementReportArgs. The report of a day replaces the
// day's earlier one, so running it twice leaves one report.
type SettlementReportWorker struct {
	river.WorkerDefaults[SettlementReportArgs]
	reports SettlementReporter
}

// Work writes the report. A day that is not a day cancels the job: no retry can mend it.
func (w *SettlementReportWorker) Work(ctx context.Context, job *river.Job[SettlementReportArgs]) error {
	day, err := time.Parse(time.DateOnly, job.Args.Day)
	if err != nil {
		return river.JobCancel(fmt.Errorf("settlement_report: day %q is not YYYY-MM-DD", job.Args.Day))
	}
	_, err = w.reports.WriteSettlementReport(ctx, day)
	return err
}

// reportTime is when, each day (UTC), the previous day's report is written: late enough
// that a settle begun before midnight has committed.
const reportTime = 10 * time.Minute

// daily is the schedule of the settlement report: every day at reportTime, UTC.
type daily struct{ at time.Duration }

// Next is the first run after now.
func (d daily) Next(now time.Time) time.Time {
	now = now.UTC()
	y, m, day := now.Date()
	next := time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Add(d.at)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}

// yesterdaysReport is the periodic job: the report of the day before the one it runs on.
func yesterdaysReport() (river.JobArgs, *river.InsertOpts) {
	return SettlementReportArgs{Day: time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)}, nil
}
