package operations_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/jobs"
	"tally/operations"
)

// outagePayout is the error of a payout while the partner is down, and its group's pattern.
const outagePayout = "partner /payouts: 503 partner outage"

// failedEnv settles four reservations whose payouts (and approval notices) are discarded in
// a partner outage, and two more whose jobs wait, unworked.
func failedEnv(t *testing.T, cfg operations.Config) (e *env, failed, waiting []int64) {
	t.Helper()
	e = newEnv(t, cfg)
	failed = e.settled(4)
	e.outage(newPartner(t), append(e.jobsOf(jobs.PartnerPayoutArgs{}.Kind()), e.jobsOf(jobs.NotifyCustomerArgs{}.Kind())...))
	waiting = e.settled(2)
	return e, failed, waiting
}

// all lists every job f matches, page by page.
func all(t *testing.T, e *env, f operations.Filter, size int) []operations.Job {
	t.Helper()
	var out []operations.Job
	after := ""
	for i := 0; ; i++ {
		page, err := e.ops.List(context.Background(), f, after, size)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Jobs...)
		if page.Next == "" {
			return out
		}
		after = page.Next
		if i > 100 {
			t.Fatal("the pages never end")
		}
	}
}

// TestFilterCountsMatchLists holds the preview count of a filter (an sqlc query) to the jobs
// River lists for it (JobListParams with Where), filter by filter.
func TestFilterCountsMatchLists(t *testing.T) {
	t.Parallel()
	e, failed, waiting := failedEnv(t, operations.Config{})
	payout, notice := jobs.PartnerPayoutArgs{}.Kind(), jobs.NotifyCustomerArgs{}.Kind()
	for _, c := range []struct {
		name string
		f    operations.Filter
		want int
	}{
		{"everything", operations.Filter{}, 12},
		{"discarded", operations.Filter{States: []string{operations.StateDiscarded}}, 8},
		{"discarded payouts", operations.Filter{States: []string{operations.StateDiscarded}, Kind: payout}, 4},
		{"waiting in the partner queue", operations.Filter{States: []string{operations.StateAvailable}, Queue: jobs.QueuePartner}, 4},
		{"another queue", operations.Filter{Queue: jobs.QueueDefault}, 0},
		{"one reservation", operations.Filter{ReservationID: failed[2]}, 2},
		{"one waiting reservation's payout", operations.Filter{ReservationID: waiting[1], Kind: payout}, 1},
		{"error text, any case", operations.Filter{Error: "OUTAGE"}, 8},
		{"error text taken literally", operations.Filter{Error: "%"}, 0},
		{"an underscore is no wildcard", operations.Filter{Error: "partner_"}, 0},
		{"a failure group", operations.Filter{States: operations.FailedStates, Kind: payout, Pattern: outagePayout}, 4},
		{"a group's pattern of another kind", operations.Filter{Kind: notice, Pattern: outagePayout}, 0},
		{"several states", operations.Filter{States: []string{operations.StateDiscarded, operations.StateAvailable}, Kind: notice}, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := e.ops.Count(context.Background(), c.f, 1000)
			if err != nil {
				t.Fatal(err)
			}
			listed := all(t, e, c.f, 3)
			if n.N != int64(c.want) || n.AtLeast || len(listed) != c.want {
				t.Errorf("count %+v, listed %d, want %d", n, len(listed), c.want)
			}
			seen := map[int64]bool{}
			for _, j := range listed {
				if seen[j.ID] {
					t.Errorf("job %d listed twice", j.ID)
				}
				seen[j.ID] = true
			}
		})
	}
	capped, err := e.ops.Count(context.Background(), operations.Filter{}, 5)
	if err != nil || !capped.AtLeast || capped.N != 5 {
		t.Errorf("a count capped at 5 of 12: %+v, %v", capped, err)
	}
}

func TestListNewestFirstWithDetail(t *testing.T) {
	t.Parallel()
	e, failed, _ := failedEnv(t, operations.Config{})
	ctx := context.Background()
	discarded := all(t, e, operations.Filter{States: []string{operations.StateDiscarded}}, 3)
	for i := 1; i < len(discarded); i++ {
		if discarded[i].FinalizedAt.After(*discarded[i-1].FinalizedAt) {
			t.Errorf("discarded jobs are not newest first: %d at %s after %d at %s", discarded[i].ID,
				discarded[i].FinalizedAt, discarded[i-1].ID, discarded[i-1].FinalizedAt)
		}
	}
	everything := all(t, e, operations.Filter{}, 5)
	if !slices.IsSortedFunc(everything, func(a, b operations.Job) int { return int(b.ID - a.ID) }) {
		t.Error("the list of every state is not newest id first")
	}

	page, err := e.ops.List(ctx, operations.Filter{ReservationID: failed[0], Kind: jobs.PartnerPayoutArgs{}.Kind()}, "", 10)
	if err != nil || len(page.Jobs) != 1 {
		t.Fatalf("the payout of reservation %d: %v, %v", failed[0], page.Jobs, err)
	}
	j, err := e.ops.Get(ctx, page.Jobs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.ReservationID != failed[0] || j.State != operations.StateDiscarded || j.Attempt != 10 || j.MaxAttempts != 10 ||
		len(j.Errors) != 10 || j.LastError() != outagePayout || len(j.AttemptedBy) == 0 || j.FinalizedAt == nil {
		t.Errorf("job detail: %+v", j)
	}
	if !strings.Contains(j.PrettyArgs(), "\n  \"amount_cents\": ") || !strings.Contains(j.PrettyMetadata(), `"reservation_id"`) {
		t.Errorf("args %s, metadata %s", j.PrettyArgs(), j.PrettyMetadata())
	}
	if _, err := e.ops.Get(ctx, 987654); tally.ErrorCode(err) != tally.ENOTFOUND {
		t.Errorf("an unknown job: %v", err)
	}
	for _, bad := range []string{"nope", "!!!", strings.Repeat("a", 2000)} {
		if _, err := e.ops.List(ctx, operations.Filter{}, bad, 10); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("cursor %.20q: %v", bad, err)
		}
	}
	for _, f := range []operations.Filter{{States: []string{"lost"}}, {Kind: "a\x00b"}, {Error: "\xff"}, {Error: "503\nunavailable"}, {Pattern: strings.Repeat("é", 201)}} {
		if _, err := e.ops.List(ctx, f, "", 10); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("filter %+v: %v", f, err)
		}
		if _, err := e.ops.Count(ctx, f, 10); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("count of filter %+v: %v", f, err)
		}
	}
}

func TestFailureGroups(t *testing.T) {
	t.Parallel()
	e, _, _ := failedEnv(t, operations.Config{})
	groups, err := e.ops.FailureGroups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Fatalf("groups: %+v", groups)
	}
	var wantCents int64
	for _, id := range e.jobsOf(jobs.PartnerPayoutArgs{}.Kind())[:4] {
		var args jobs.PartnerPayoutArgs
		mustUnmarshal(t, e.job(id).EncodedArgs, &args)
		wantCents += args.AmountCents
	}
	for _, g := range groups {
		if g.Jobs != 4 || g.Discarded != 4 || g.Retryable != 0 || g.FirstSeen.After(g.LastSeen) || g.LastSeen.IsZero() {
			t.Errorf("group %+v", g)
		}
		switch g.Kind {
		case jobs.PartnerPayoutArgs{}.Kind():
			if g.Pattern != outagePayout || len(g.AtStake) != 1 || g.AtStake[0].Currency != "EUR" || g.AtStake[0].Cents != wantCents {
				t.Errorf("payout group %q, at stake %v, want EUR %d", g.Pattern, g.AtStake, wantCents)
			}
			if n, err := e.ops.Count(context.Background(), g.Filter(), 100); err != nil || n.N != 4 {
				t.Errorf("the group's filter counts %+v, %v", n, err)
			}
		case jobs.NotifyCustomerArgs{}.Kind():
			if g.Pattern != "partner /notices: 503 partner outage" || len(g.AtStake) != 0 {
				t.Errorf("notice group %q, at stake %v", g.Pattern, g.AtStake)
			}
		default:
			t.Errorf("unexpected group %+v", g)
		}
	}
}

func TestOverviewCountsAndLag(t *testing.T) {
	t.Parallel()
	e, _, _ := failedEnv(t, operations.Config{})
	o, err := e.ops.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var partner *operations.Queue
	for i, q := range o.Queues {
		if q.Name == jobs.QueuePartner {
			partner = &o.Queues[i]
		}
	}
	if partner == nil {
		t.Fatalf("no partner queue in %+v", o.Queues)
	}
	if got := partner.Counts[operations.StateDiscarded]; got != (operations.Count{N: 8}) {
		t.Errorf("discarded in the partner queue: %+v", got)
	}
	if got := partner.Counts[operations.StateAvailable]; got != (operations.Count{N: 4}) {
		t.Errorf("available in the partner queue: %+v", got)
	}
	if !partner.Waiting || partner.Lag <= 0 || partner.Lag > time.Minute || !partner.Known || partner.Paused() {
		t.Errorf("partner queue: waiting %v, lag %s, known %v, paused %v", partner.Waiting, partner.Lag, partner.Known, partner.Paused())
	}
	if o.Totals[operations.StateDiscarded].N != 8 || o.Totals[operations.StateCompleted].N != 0 {
		t.Errorf("totals: %+v", o.Totals)
	}
	h, err := e.ops.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.PayoutsFailing != 4 || h.PayoutsCancelled != 0 || !h.Waiting || h.LagQueue != jobs.QueuePartner {
		t.Errorf("health: %+v", h)
	}
}

func TestOverviewEstimatesHugeStates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, operations.Config{CountCap: 100})
	ctx := context.Background()
	// 120 completed jobs: more than a count goes to here, so the statistics say how many.
	var params []river.InsertManyParams
	for i := 0; i < 120; i++ {
		params = append(params, river.InsertManyParams{Args: jobs.PurgeArgs{}, InsertOpts: &river.InsertOpts{Queue: jobs.QueueMaintenance}})
	}
	if _, err := e.river.InsertManyFast(ctx, params); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[jobs.PurgeArgs]) error { return nil }))
	stop := startClient(t, e.pool, workers, soon{}, jobs.QueueMaintenance)
	deadline := time.Now().Add(60 * time.Second)
	for e.count("SELECT count(*) FROM river_job WHERE state = 'completed'") < 120 {
		if time.Now().After(deadline) {
			t.Fatal("the jobs did not complete")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	o, err := e.ops.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Totals[operations.StateCompleted]; got != (operations.Count{N: 100, AtLeast: true}) {
		t.Errorf("before ANALYZE, completed: %+v, want at least 100", got)
	}
	if _, err := e.pool.Exec(ctx, "ANALYZE river_job"); err != nil {
		t.Fatal(err)
	}
	o, err = e.ops.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Totals[operations.StateCompleted]; !got.About || got.N < 110 || got.N > 130 {
		t.Errorf("after ANALYZE, completed: %+v, want about 120", got)
	}
}

func TestStuckJobsAndCancel(t *testing.T) {
	t.Parallel()
	// Jobs that do not call the partner may run 50 ms: then a running one is stuck.
	e := newEnv(t, operations.Config{Workers: jobs.Config{JobTimeout: 50 * time.Millisecond}, StuckMargin: 10 * time.Millisecond})
	ctx := context.Background()
	started := make(chan struct{}, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[jobs.PurgeArgs]) error {
		started <- struct{}{}
		<-ctx.Done() // works on past the console's timeout, until River cancels it
		return ctx.Err()
	}))
	startClient(t, e.pool, workers, later{}, jobs.QueueMaintenance)
	res, err := e.river.Insert(ctx, jobs.PurgeArgs{}, &river.InsertOpts{Queue: jobs.QueueMaintenance})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	time.Sleep(100 * time.Millisecond)
	stuck, err := e.ops.Stuck(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(stuck) != 1 || stuck[0].ID != res.Job.ID || stuck[0].Stuck == nil || stuck[0].Stuck.Worker == "" ||
		stuck[0].Stuck.Timeout != 50*time.Millisecond || !stuck[0].Stuck.RescueAt.After(*stuck[0].AttemptedAt) {
		t.Fatalf("stuck: %+v", stuck)
	}
	// The one thing River lets an operator do to a running job: ask it to stop.
	out, err := e.ops.Act(ctx, e.operator, operations.ActionRetry, []int64{res.Job.ID}, "")
	if err != nil || out.Done != 0 || out.Skipped[operations.SkipRunning] != 1 {
		t.Errorf("retrying a running job: %s, %v", out.Summary(), err)
	}
	out, err = e.ops.Act(ctx, e.operator, operations.ActionCancel, []int64{res.Job.ID}, "stuck on a lock")
	if err != nil || out.Requested != 1 || out.Summary() != "0 cancelled, 1 running asked to stop" {
		t.Fatalf("cancelling a stuck job: %q, %v", out.Summary(), err)
	}
	if ended := e.waitState(res.Job.ID, rivertype.JobStateCancelled); ended.FinalizedAt == nil {
		t.Errorf("the stuck job was not ended: %+v", ended)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'job.cancel' AND record_id = $1 AND detail->>'reason' = 'stuck on a lock'`, res.Job.ID); n != 1 {
		t.Errorf("%d audit rows for the cancel", n)
	}
}

func TestThroughputCharts(t *testing.T) {
	t.Parallel()
	e, _, _ := failedEnv(t, operations.Config{})
	p := newPartner(t)
	p.workers(t, e.pool) // the waiting jobs complete
	e.waitStates(e.jobsOf(jobs.PartnerPayoutArgs{}.Kind())[4:], rivertype.JobStateCompleted)
	stats, err := e.ops.Throughput(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var payout *operations.KindStats
	for i := range stats {
		if stats[i].Kind == (jobs.PartnerPayoutArgs{}).Kind() {
			payout = &stats[i]
		}
	}
	if payout == nil {
		t.Fatalf("no payout figures in %+v", stats)
	}
	h := payout.Hour
	if h.Completed != 2 || h.Failed != 40 || h.Discarded != 4 || len(h.Points) != 60 || !h.Run.Known || !h.Wait.Known ||
		h.Run.P95 < h.Run.P50 || h.Run.P50 <= 0 {
		t.Errorf("last hour: completed %d, failed %d, discarded %d, %d points, run %+v, wait %+v", h.Completed, h.Failed,
			h.Discarded, len(h.Points), h.Run, h.Wait)
	}
	if d := payout.Day; d.Completed != 2 || d.Failed != 40 || len(d.Points) != 96 {
		t.Errorf("last day: completed %d, failed %d, %d points", d.Completed, d.Failed, len(d.Points))
	}
	// Read again, once the earlier hours of the day are read too: the minutes kept are not
	// counted twice.
	deadline := time.Now().Add(20 * time.Second)
	for {
		again, err := e.ops.Throughput(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var s operations.KindStats
		for _, k := range again {
			if k.Kind == payout.Kind {
				s = k
			}
		}
		if s.Hour.Completed != 2 || s.Hour.Failed != 40 || s.Day.Completed != 2 || s.Day.Failed != 40 {
			t.Fatalf("read again: completed %d, failed %d; the day: completed %d, failed %d", s.Hour.Completed, s.Hour.Failed,
				s.Day.Completed, s.Day.Failed)
		}
		if !s.Day.Partial() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the day's figures are still partial, since %s", s.Day.Since)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
