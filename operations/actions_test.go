package operations_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/internal/fixture"
	"tally/jobs"
	"tally/operations"
	"tally/partnersim"
)

// TestRetryGroupAfterOutage is the operator's story: the partner was down, the payouts were
// discarded and show as one failure group; the partner is back, the operator retries the
// group, and the real workers pay each reservation once.
func TestRetryGroupAfterOutage(t *testing.T) {
	t.Parallel()
	e, failed, _ := failedEnv(t, operations.Config{BatchSize: 3})
	ctx := context.Background()
	groups, err := e.ops.FailureGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var group operations.FailureGroup
	for _, g := range groups {
		if g.Kind == (jobs.PartnerPayoutArgs{}).Kind() {
			group = g
		}
	}
	out, err := e.ops.ActOnFilterAll(ctx, e.operator, operations.ActionRetry, group.Filter(), "partner is back")
	if err != nil {
		t.Fatal(err)
	}
	if out.Summary() != "4 retried" || len(out.Items) != 4 {
		t.Fatalf("retrying the group: %q, items %+v", out.Summary(), out.Items)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'job.retry' AND record_type = 'job' AND actor = 'ops@example.com'
		AND from_status = 'discarded' AND to_status = 'available' AND detail->>'reason' = 'partner is back'`); n != 4 {
		t.Errorf("%d audit rows for 4 retries", n)
	}
	sim, url := fixture.Partner(t)
	fixture.Workers(t, e.pool, e.bookings, url)
	payouts := e.jobsOf(jobs.PartnerPayoutArgs{}.Kind())[:4]
	e.waitStates(payouts, rivertype.JobStateCompleted)
	paid := map[int64]int{}
	for _, p := range sim.Payouts() {
		paid[p.ReservationID]++
	}
	for _, id := range failed {
		if paid[id] != 1 {
			t.Errorf("reservation %d paid %d times", id, paid[id])
		}
	}
	// The group is gone, and retrying it again finds nothing and changes nothing.
	if _, err := e.ops.ActOnFilter(ctx, e.operator, operations.ActionRetry, group.Filter(), 0, 0, ""); tally.ErrorCode(err) != tally.ECONFLICT {
		t.Errorf("retrying an empty group: %v", err)
	}
}

// TestSelectionRaces acts on a selection whose jobs are in every situation an operator can
// meet: each one is reported, and only the ones the action fits are touched.
func TestSelectionRaces(t *testing.T) {
	t.Parallel()
	e, _, waiting := failedEnv(t, operations.Config{})
	ctx := context.Background()
	payouts := e.jobsOf(jobs.PartnerPayoutArgs{}.Kind())
	discarded := payouts[0]
	// Of the two waiting payouts, one completes and one is held running by a worker that takes
	// its time.
	p := newPartner(t)
	release := make(chan struct{})
	running := make(chan int64, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[jobs.PartnerPayoutArgs]) error {
		if j.Args.ReservationID == waiting[1] {
			running <- j.ID
			<-release
		}
		return p.post(ctx, "/payouts", j.Args.IdempotencyKey(), j.Args)
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[jobs.NotifyCustomerArgs]) error { return nil }))
	// Only the jobs of the waiting reservations are available: the worker takes those.
	stop := startClient(t, e.pool, workers, later{}, jobs.QueuePartner)
	t.Cleanup(func() { close(release); stop() })
	busy := <-running
	completed := payouts[4]
	e.waitState(completed, rivertype.JobStateCompleted)
	// Nothing else runs from now on: the jobs retried below stay waiting.
	if err := e.ops.PauseQueue(ctx, e.operator, jobs.QueuePartner, ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)

	out, err := e.ops.Act(ctx, e.operator, operations.ActionRetry, []int64{discarded, completed, busy, 987654, discarded}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.Summary(), "1 retried, 1 skipped: completed, 1 skipped: not found, 1 skipped: running"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if len(out.Items) != 4 {
		t.Errorf("items: %+v", out.Items)
	}
	for _, it := range out.Items {
		if it.Detail == "" || !strings.Contains(it.Detail, "Job ") {
			t.Errorf("item without a sentence: %+v", it)
		}
	}
	// The same selection again: the retried job is waiting now.
	out, err = e.ops.Act(ctx, e.operator, operations.ActionRetry, []int64{discarded}, "")
	if err != nil || out.Summary() != "0 retried, 1 skipped: already waiting to run" {
		t.Errorf("retrying twice: %q, %v", out.Summary(), err)
	}
	// Deleting: the running job stays, the others go.
	out, err = e.ops.Act(ctx, e.operator, operations.ActionDelete, []int64{busy, completed}, "clean up")
	if err != nil || out.Summary() != "1 deleted, 1 skipped: running" {
		t.Errorf("deleting: %q, %v", out.Summary(), err)
	}
	if e.job(busy).State != rivertype.JobStateRunning {
		t.Error("the running job was touched")
	}
	// Cancelling: the waiting job is cancelled, a finished one is left as it is.
	out, err = e.ops.Act(ctx, e.operator, operations.ActionCancel, []int64{discarded, payouts[1]}, "")
	if err != nil || out.Summary() != "1 cancelled, 1 skipped: already finished" {
		t.Errorf("cancelling: %q, %v", out.Summary(), err)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE record_type = 'job'`); n != 3 {
		t.Errorf("%d audit rows, want 3 (retry, delete, cancel)", n)
	}
	for _, bad := range [][]int64{nil, {0}, {-3}, make([]int64, operations.MaxSelection+1)} {
		if len(bad) > 2 {
			for i := range bad {
				bad[i] = int64(i + 1)
			}
		}
		if _, err := e.ops.Act(ctx, e.operator, operations.ActionRetry, bad, ""); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("selection of %d jobs: %v", len(bad), err)
		}
	}
	for _, reason := range []string{strings.Repeat("x", operations.MaxReason+1), "a\x00b", "\xff"} {
		if _, err := e.ops.Act(ctx, e.operator, operations.ActionRetry, []int64{discarded}, reason); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("reason %.20q: %v", reason, err)
		}
	}
}

// TestRetrySafetyCheck: a job whose reservation no longer needs it is not retried, and the
// operator is told why.
func TestRetrySafetyCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, operations.Config{})
	ctx := context.Background()
	// A payout of a reservation that was cancelled instead of settled (say, by hand), and the
	// approval notice of a reservation cancelled since.
	cancelled := e.approved()
	if _, err := e.bookings.Cancel(ctx, e.staff, "cancel-"+fixture.Unique()+"-key", cancelled); err != nil {
		t.Fatal(err)
	}
	stray, err := e.river.Insert(ctx, jobs.PartnerPayoutArgs{ReservationID: cancelled, AmountCents: 2400, Currency: "EUR"}, jobs.ForReservation(cancelled))
	if err != nil {
		t.Fatal(err)
	}
	e.settled(1)
	e.outage(newPartner(t), append(e.jobsOf(jobs.PartnerPayoutArgs{}.Kind()), e.jobsOf(jobs.NotifyCustomerArgs{}.Kind())...))

	var approvedNotice, goodPayout int64
	for _, id := range e.jobsOf(jobs.NotifyCustomerArgs{}.Kind()) {
		var args jobs.NotifyCustomerArgs
		mustUnmarshal(t, e.job(id).EncodedArgs, &args)
		if args.ReservationID == cancelled && args.Event == jobs.EventApproved {
			approvedNotice = id
		}
	}
	for _, id := range e.jobsOf(jobs.PartnerPayoutArgs{}.Kind()) {
		if id != stray.Job.ID {
			goodPayout = id
		}
	}
	out, err := e.ops.Act(ctx, e.operator, operations.ActionRetry, []int64{stray.Job.ID, approvedNotice, goodPayout}, "")
	if err != nil {
		t.Fatal(err)
	}
	if out.Summary() != "1 retried, 2 skipped: no longer due" {
		t.Errorf("summary: %q", out.Summary())
	}
	details := map[int64]string{}
	for _, it := range out.Items {
		details[it.ID] = it.Detail
	}
	if d := details[stray.Job.ID]; !strings.Contains(d, "is cancelled, not settled: no payout is due") {
		t.Errorf("the stray payout: %q", d)
	}
	if d := details[approvedNotice]; !strings.Contains(d, "was cancelled since: its approval notice is out of date") {
		t.Errorf("the out-of-date notice: %q", d)
	}
	if e.job(stray.Job.ID).State != rivertype.JobStateDiscarded || e.job(approvedNotice).State != rivertype.JobStateDiscarded {
		t.Error("a job that is no longer due was touched")
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'job.retry'`); n != 1 {
		t.Errorf("%d retries audited, want 1", n)
	}
	// The same check on a filter: the group's stray payout stays, and says why.
	f := operations.Filter{States: []string{operations.StateDiscarded}, Kind: jobs.PartnerPayoutArgs{}.Kind()}
	all, err := e.ops.ActOnFilterAll(ctx, e.operator, operations.ActionRetry, f, "")
	if err != nil || all.Summary() != "0 retried, 1 skipped: no longer due" {
		t.Errorf("retrying the filter: %q, %v", all.Summary(), err)
	}
}

// TestActOnFilterInBatches: an action on a filter runs batch by batch, stops at the cap, and
// a delete deletes only what still matches.
func TestActOnFilterInBatches(t *testing.T) {
	t.Parallel()
	e, _, _ := failedEnv(t, operations.Config{BatchSize: 3, Cap: 5})
	ctx := context.Background()
	f := operations.Filter{States: []string{operations.StateDiscarded}}
	first, err := e.ops.ActOnFilter(ctx, e.operator, operations.ActionDelete, f, 0, 0, "purge the outage")
	if err != nil || first.Done != 3 || !first.More {
		t.Fatalf("first batch: %q more %v, %v", first.Summary(), first.More, err)
	}
	second, err := e.ops.ActOnFilter(ctx, e.operator, operations.ActionDelete, f, first.Last, first.Reached(), "purge the outage")
	if err != nil || second.Done != 2 || second.More {
		t.Fatalf("second batch (the cap is 5): %q more %v, %v", second.Summary(), second.More, err)
	}
	if n := e.count(`SELECT count(*) FROM river_job WHERE state = 'discarded'`); n != 3 {
		t.Errorf("%d discarded jobs left, want 3", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'job.delete' AND to_status = 'deleted'`); n != 5 {
		t.Errorf("%d deletes audited, want 5", n)
	}
	none := operations.Filter{States: []string{operations.StateDiscarded}, Error: "no such error"}
	if _, err := e.ops.ActOnFilter(ctx, e.operator, operations.ActionCancel, none, 0, 0, ""); tally.ErrorCode(err) != tally.ECONFLICT {
		t.Errorf("a filter matching nothing: %v", err)
	}
	if _, err := e.ops.ActOnFilter(ctx, e.operator, operations.ActionCancel, f, -1, 0, ""); tally.ErrorCode(err) != tally.EINVALID {
		t.Errorf("a bad cursor: %v", err)
	}
	// Cancelling waiting jobs by filter.
	waitingF := operations.Filter{States: []string{operations.StateAvailable}, Kind: jobs.PartnerPayoutArgs{}.Kind()}
	out, err := e.ops.ActOnFilterAll(ctx, e.operator, operations.ActionCancel, waitingF, "")
	if err != nil || out.Summary() != "2 cancelled" {
		t.Errorf("cancelling the waiting payouts: %q, %v", out.Summary(), err)
	}
}

func TestQueuePauseResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t, operations.Config{})
	ctx := context.Background()
	if err := e.ops.PauseQueue(ctx, e.operator, jobs.QueuePartner, ""); tally.ErrorCode(err) != tally.ENOTFOUND {
		t.Errorf("pausing a queue no worker has run: %v", err)
	}
	for _, bad := range []string{"", "Partner", "a b", strings.Repeat("q", 65), "x\x00"} {
		if err := e.ops.PauseQueue(ctx, e.operator, bad, ""); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("queue %q: %v", bad, err)
		}
	}
	newPartner(t).workers(t, e.pool) // the partner queue is known now
	deadline := time.Now().Add(10 * time.Second)
	for e.count(`SELECT count(*) FROM river_queue WHERE name = 'partner'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker never registered its queue")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := e.ops.PauseQueue(ctx, e.operator, jobs.QueuePartner, "partner maintenance"); err != nil {
		t.Fatal(err)
	}
	o, err := e.ops.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range o.Queues {
		if q.Paused() != (q.Name == jobs.QueuePartner) {
			t.Errorf("queue %s paused: %v", q.Name, q.Paused())
		}
	}
	// A payout settled while the queue is paused waits.
	e.settled(1)
	time.Sleep(300 * time.Millisecond)
	if n := e.count(`SELECT count(*) FROM river_job WHERE state = 'available'`); n != 2 {
		t.Errorf("%d jobs waiting in the paused queue, want 2", n)
	}
	if err := e.ops.ResumeQueue(ctx, e.operator, operations.AllQueues, ""); err != nil {
		t.Fatal(err)
	}
	e.waitStates(e.jobsOf(jobs.PartnerPayoutArgs{}.Kind()), rivertype.JobStateCompleted)
	if n := e.count(`SELECT count(*) FROM audit_events WHERE record_type = 'queue' AND (
		(action = 'queue.pause' AND to_status = 'paused' AND detail->>'queue' = 'partner' AND detail->>'reason' = 'partner maintenance')
		OR (action = 'queue.resume' AND to_status = 'running' AND detail->>'queue' = '*'))`); n != 2 {
		t.Errorf("%d queue actions audited, want 2", n)
	}
}

func TestPayoutMarks(t *testing.T) {
	t.Parallel()
	e, failed, waiting := failedEnv(t, operations.Config{})
	ctx := context.Background()
	// The partner refuses the waiting payouts: River cancels them.
	p := newPartner(t)
	p.sim.SetFaults(partnersim.Faults{Reject: true})
	stop := p.workers(t, e.pool)
	e.waitStates(e.jobsOf(jobs.PartnerPayoutArgs{}.Kind())[4:], rivertype.JobStateCancelled)
	stop()
	unpaid := e.approved() // not settled: no payout, no mark
	marks, err := e.ops.PayoutMarks(ctx, append([]int64{failed[0], waiting[0], unpaid}, failed[1:]...))
	if err != nil {
		t.Fatal(err)
	}
	if m := marks[failed[0]]; m.Problem != operations.PayoutFailing || m.Label != "payout failing: attempts used up" || m.JobID == 0 ||
		m.Attempt != 10 || m.LastError != outagePayout {
		t.Errorf("a discarded payout's mark: %+v", m)
	}
	if m := marks[waiting[0]]; m.Problem != operations.PayoutCancelled || m.Label != "payout cancelled: partner refused" {
		t.Errorf("a refused payout's mark: %+v", m)
	}
	if m, ok := marks[unpaid]; ok || len(marks) != 5 {
		t.Errorf("marks: %d (want 5), the unpaid reservation's: %+v", len(marks), m)
	}
	all, err := e.ops.PayoutProblems(ctx, 100)
	if err != nil || len(all) != 6 || all[0].ReservationID != waiting[1] {
		t.Errorf("payout problems: %+v, %v", all, err)
	}
	h, err := e.ops.Health(ctx)
	if err != nil || h.PayoutsFailing != 4 || h.PayoutsCancelled != 2 {
		t.Errorf("health: %+v, %v", h, err)
	}
	// An operator's cancel is said so.
	payouts := e.jobsOf(jobs.PartnerPayoutArgs{}.Kind())
	var retried operations.Outcome
	if retried, err = e.ops.Act(ctx, e.operator, operations.ActionRetry, payouts[:1], ""); err != nil || retried.Done != 1 {
		t.Fatalf("retry: %q, %v", retried.Summary(), err)
	}
	if _, err := e.ops.Act(ctx, e.operator, operations.ActionCancel, payouts[:1], ""); err != nil {
		t.Fatal(err)
	}
	marks, err = e.ops.PayoutMarks(ctx, failed[:1])
	if m := marks[failed[0]]; err != nil || m.Label != "payout cancelled by an operator" {
		t.Errorf("a payout cancelled by an operator after failing: %+v, %v", m, err)
	}
}
