package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/jobs"
)

// jobsEnv is an app with every role signed in, four settled reservations whose payouts and
// notices a partner outage discarded, and two more whose jobs wait.
type jobsEnv struct {
	*app
	staff    tally.Actor
	browsers map[string]*browser
	failed   []int64
	waiting  []int64
}

func newJobsEnv(t *testing.T) *jobsEnv {
	t.Helper()
	a := newApp(t)
	e := &jobsEnv{app: a, browsers: map[string]*browser{}}
	for _, role := range []tally.Role{tally.RoleAdmin, tally.RoleStaff, tally.RoleOperator, tally.RoleEngineer} {
		u := a.user(string(role)+"@example.com", role)
		if role == tally.RoleStaff {
			e.staff = tally.Actor{ID: u.ID, Email: u.Email}
		}
		b := a.browser()
		b.signIn(u.Email)
		e.browsers[string(role)] = b
	}
	e.failed = a.settled(e.staff, 4)
	a.outage()
	e.waiting = a.settled(e.staff, 2)
	return e
}

func TestJobPagesForEveryone(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	payout := e.jobIDs(jobs.PartnerPayoutArgs{}.Kind())[0]
	for who, b := range e.browsers {
		for _, path := range []string{"/jobs", "/jobs?window=day", "/jobs/live", "/jobs?state=discarded", "/jobs?state=", "/jobs/failures",
			fmt.Sprintf("/jobs/%d", payout), "/queues"} {
			if p := b.get(path); p.Status != http.StatusOK {
				t.Errorf("GET %s as %s: %d", path, who, p.Status)
			}
		}
	}
	b := e.browsers["staff"]
	// The overview: discarded in red, per state and queue, with the charts.
	p := b.get("/jobs")
	cell := p.Doc.Find(`[data-testid="queue-row"][data-queue="partner"] td[data-state="discarded"]`)
	if strings.TrimSpace(cell.Text()) != "8" || !cell.HasClass("bad") {
		t.Errorf("discarded in the partner queue: %q (classes %q)", cell.Text(), cell.AttrOr("class", ""))
	}
	if got := strings.TrimSpace(p.Doc.Find(`[data-testid="card-payouts"] .card-value`).Text()); got != "4" {
		t.Errorf("payouts failing: %q", got)
	}
	if p.Doc.Find(`[data-testid="kind-stats"][data-kind="partner_payout"] svg.chart rect.chart-bad`).Length() == 0 {
		t.Error("the payouts' failures are not in the chart")
	}
	if live := b.get("/jobs/live"); live.Doc.Find(`#jobs-live[data-poll][hx-trigger]`).Length() != 1 || strings.Contains(live.Body, "<html") {
		t.Errorf("the live fragment: %.300s", live.Body)
	}
	// One job: args, errors, timeline and its reservation.
	p = b.get(fmt.Sprintf("/jobs/%d", payout))
	if p.Doc.Find(`[data-testid="job-error"]`).Length() != 10 || !strings.Contains(p.Doc.Find(`[data-testid="job-args"]`).Text(), `"amount_cents"`) ||
		p.Doc.Find(`[data-testid="job-reservation"]`).AttrOr("href", "") != fmt.Sprintf("/reservations/%d", e.failed[0]) ||
		p.Doc.Find(`[data-testid="timeline-event"]`).Length() < 12 {
		t.Errorf("the job page: %d errors, args %q, reservation %q", p.Doc.Find(`[data-testid="job-error"]`).Length(),
			p.Doc.Find(`[data-testid="job-args"]`).Text(), p.Doc.Find(`[data-testid="job-reservation"]`).AttrOr("href", ""))
	}
	if p.Doc.Find(`[data-testid="job-retry"]`).Length() != 0 {
		t.Error("staff are offered a retry")
	}
	if p := e.browsers["operator"].get(fmt.Sprintf("/jobs/%d", payout)); p.Doc.Find(`[data-testid="job-retry"]`).Length() != 1 {
		t.Error("an operator is not offered a retry")
	}
	if p := b.get("/jobs/987654"); p.Status != http.StatusNotFound {
		t.Errorf("an unknown job: %d", p.Status)
	}
}

func TestJobListFilters(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	b := e.browsers["engineer"]
	rows := func(path string) []string {
		t.Helper()
		p := b.get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, p.Status)
		}
		var ids []string
		p.Doc.Find(`[data-testid="job-row"]`).Each(func(_ int, s *goquerySelection) { ids = append(ids, s.AttrOr("data-id", "")) })
		return ids
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/jobs?state=discarded", 8},
		{"/jobs?state=discarded&kind=partner_payout", 4},
		{"/jobs?state=available&queue=partner", 4},
		{fmt.Sprintf("/jobs?state=&reservation=%d", e.failed[1]), 2},
		{fmt.Sprintf("/jobs?state=&reservation=%%23%d&kind=notify_customer", e.waiting[0]), 1},
		{"/jobs?state=&error=OUTAGE", 8},
		{"/jobs?state=&error=" + url.QueryEscape("100%"), 0},
		{"/jobs?" + url.Values{"state": {"discarded", "retryable"}, "kind": {"partner_payout"}, "pattern": {"partner /payouts: 503 partner outage"}}.Encode(), 4},
	} {
		if got := rows(c.path); len(got) != c.want {
			t.Errorf("%s: %d rows, want %d", c.path, len(got), c.want)
		}
	}
	for _, bad := range []string{"/jobs?state=lost", "/jobs?state=&reservation=abc", "/jobs?state=&reservation=0", "/jobs?state=&cursor=garbage",
		"/jobs?window=week", "/jobs?state=&kind=" + strings.Repeat("k", 200)} {
		if p := b.get(bad); p.Status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, p.Status)
		}
	}
	// Keyset pages with River's cursor, newest first: 60 waiting jobs are 50 and 10.
	var params []river.InsertManyParams
	for i := 0; i < 60; i++ {
		params = append(params, river.InsertManyParams{Args: jobs.PurgeArgs{}, InsertOpts: &river.InsertOpts{Queue: jobs.QueueMaintenance}})
	}
	if _, err := e.Jobs.InsertManyFast(context.Background(), params); err != nil {
		t.Fatal(err)
	}
	p := b.get("/jobs?state=available&kind=purge")
	first := p.Doc.Find(`[data-testid="job-row"]`)
	next, ok := p.Doc.Find(`[data-testid="next-page"]`).Attr("href")
	if first.Length() != 50 || !ok || !strings.Contains(p.Doc.Find(`[data-testid="job-matching"]`).Text(), "60 jobs match") {
		t.Fatalf("first page: %d rows, next %q, %q", first.Length(), next, p.Doc.Find(`[data-testid="job-matching"]`).Text())
	}
	second := rows(next)
	if len(second) != 10 {
		t.Errorf("second page: %d rows", len(second))
	}
	seen := map[string]bool{}
	first.Each(func(_ int, s *goquerySelection) { seen[s.AttrOr("data-id", "")] = true })
	for _, id := range second {
		if seen[id] {
			t.Errorf("job %s on both pages", id)
		}
	}
}

func TestJobActionsNeedAnOperator(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	payout := e.jobIDs(jobs.PartnerPayoutArgs{}.Kind())[0]
	before := e.count(`SELECT count(*) FROM audit_events`)
	for _, who := range []string{"staff", "engineer"} {
		b := e.browsers[who]
		for _, path := range []string{fmt.Sprintf("/jobs/%d/retry", payout), fmt.Sprintf("/jobs/%d/delete", payout), "/jobs/retry", "/queues/pause", "/queues/partner/pause"} {
			if p := b.post(path, url.Values{"id": {fmt.Sprint(payout)}}); p.Status != http.StatusForbidden {
				t.Errorf("POST %s as %s: %d, want 403", path, who, p.Status)
			}
		}
		if p := b.get("/jobs/preview?action=retry&state=discarded"); p.Status != http.StatusForbidden {
			t.Errorf("the preview as %s: %d", who, p.Status)
		}
	}
	if e.count(`SELECT count(*) FROM audit_events`) != before || e.count(`SELECT count(*) FROM river_job WHERE state = 'discarded'`) != 8 {
		t.Error("a refused action changed something")
	}
}

func TestJobRetryOneAndSelection(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	b := e.browsers["operator"]
	payouts := e.jobIDs(jobs.PartnerPayoutArgs{}.Kind())
	// One job, from its page: back to the page with a flash.
	p := b.post(fmt.Sprintf("/jobs/%d/retry", payouts[0]), url.Values{"reason": {"partner is back"}})
	if p.Status != http.StatusSeeOther || p.Location != fmt.Sprintf("/jobs/%d", payouts[0]) {
		t.Fatalf("retry one: %d %q", p.Status, p.Location)
	}
	if got := b.get(p.Location).Doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(got, "retried") {
		t.Errorf("flash after a retry: %q", got)
	}
	// Again: it waits already; nothing changes, and the flash says why.
	p = b.post(fmt.Sprintf("/jobs/%d/retry", payouts[0]), url.Values{"then": {"reservation"}})
	if p.Location != fmt.Sprintf("/reservations/%d", e.failed[0]) {
		t.Errorf("then=reservation: %q", p.Location)
	}
	if got := b.get(p.Location).Doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(got, "already waiting to run") {
		t.Errorf("flash after retrying twice: %q", got)
	}
	// A selection over htmx: the list again, the outcome above it, item by item.
	p = b.htmx("/jobs/retry", url.Values{"id": {fmt.Sprint(payouts[1]), fmt.Sprint(payouts[0]), "987654"}, "state": {"discarded"},
		"reason": {"after the outage"}})
	if p.Status != http.StatusOK {
		t.Fatalf("selection: %d %s", p.Status, p.Body)
	}
	summary := p.Doc.Find(`[data-testid="job-outcome"] strong`).Text()
	if summary != "1 retried, 1 skipped: already waiting to run, 1 skipped: not found" {
		t.Errorf("summary: %q", summary)
	}
	if n := p.Doc.Find(`[data-testid="job-outcome-item"]`).Length(); n != 2 {
		t.Errorf("%d items left alone listed, want 2", n)
	}
	if n := p.Doc.Find(`#job-results [data-testid="job-row"]`).Length(); n != 6 {
		t.Errorf("the list after: %d discarded rows, want 6", n)
	}
	if !strings.Contains(p.Doc.Find(`#flash[hx-swap-oob]`).Text(), "1 retried") {
		t.Errorf("no flash: %s", p.Body)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'job.retry' AND actor = 'operator@example.com' AND record_type = 'job'`); n != 2 {
		t.Errorf("%d retries audited, want 2", n)
	}
	// Nothing ticked, bad ids, a bad scope: 400, nothing changes.
	for _, form := range []url.Values{{}, {"id": {"x"}}, {"id": {"-1"}}, {"id": {"1"}, "scope": {"all"}}, {"id": {"1"}, "reason": {strings.Repeat("r", 501)}}} {
		if p := b.htmx("/jobs/cancel", form); p.Status != http.StatusBadRequest {
			t.Errorf("cancel %v: %d", form, p.Status)
		}
	}
	if n := e.count(`SELECT count(*) FROM river_job WHERE state = 'cancelled'`); n != 0 {
		t.Errorf("%d jobs cancelled by bad requests", n)
	}
}

func TestJobRetryGroupOverHTTP(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	b := e.browsers["operator"]
	p := b.get("/jobs/failures")
	group := p.Doc.Find(`[data-testid="failure-group"][data-kind="partner_payout"]`)
	if group.AttrOr("data-jobs", "") != "4" || group.Find(`[data-testid="failure-pattern"]`).Text() != "partner /payouts: 503 partner outage" {
		t.Fatalf("the payout group: %q", group.Text())
	}
	if !strings.HasPrefix(group.Find(`[data-testid="at-stake"]`).Text(), "EUR ") {
		t.Errorf("at stake: %q", group.Find(`[data-testid="at-stake"]`).Text())
	}
	preview, _ := group.Find(`[data-testid="retry-group"]`).Attr("hx-get")
	p = b.get(preview)
	confirm := p.Doc.Find(`[data-testid="job-confirm"]`)
	if p.Status != http.StatusOK || !strings.Contains(confirm.Text(), "Retry 4 failed partner_payout jobs") || !strings.Contains(confirm.Text(), "EUR ") {
		t.Fatalf("preview: %d %q", p.Status, confirm.Text())
	}
	form := url.Values{}
	confirm.Find(`form input[type=hidden]`).Each(func(_ int, s *goquerySelection) { form.Add(s.AttrOr("name", ""), s.AttrOr("value", "")) })
	form.Set("reason", "partner is back")
	p = b.htmx("/jobs/retry", form)
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="job-outcome"] strong`).Text() != "4 retried" || p.Header.Get("HX-Trigger") != "tally:jobs-changed" {
		t.Fatalf("retry the group: %d %q %q", p.Status, p.Doc.Find(`[data-testid="job-outcome"] strong`).Text(), p.Header.Get("HX-Trigger"))
	}
	// The group is gone: a second try says so, and changes nothing.
	if p := b.htmx("/jobs/retry", form); p.Status != http.StatusConflict || !strings.Contains(p.Body, "No job matches this filter any more") {
		t.Errorf("retrying the group again: %d %s", p.Status, p.Body)
	}
	if p := b.get(preview); p.Status != http.StatusConflict {
		t.Errorf("previewing the empty group: %d", p.Status)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'job.retry' AND detail->>'reason' = 'partner is back'`); n != 4 {
		t.Errorf("%d retries audited, want 4", n)
	}
}

// TestJobFilterActionInBatches deletes more jobs than a batch holds: the first answer is the
// progress, with the next batch's form; the second finishes.
func TestJobFilterActionInBatches(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("op@example.com", tally.RoleOperator)
	b := a.browser()
	b.signIn("op@example.com")
	var params []river.InsertManyParams
	for i := 0; i < 520; i++ {
		params = append(params, river.InsertManyParams{Args: jobs.PurgeArgs{}, InsertOpts: &river.InsertOpts{Queue: jobs.QueueMaintenance, MaxAttempts: 1}})
	}
	if _, err := a.Jobs.InsertManyFast(context.Background(), params); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[jobs.PurgeArgs]) error { return errors.New("disk full on /var/tmp") }))
	stop := a.worker(workers, jobs.QueueMaintenance)
	for a.count(`SELECT count(*) FROM river_job WHERE state = 'discarded'`) < 520 {
		waitABit()
	}
	stop()
	p := b.get("/jobs/preview?action=delete&state=discarded&kind=purge")
	form := url.Values{}
	p.Doc.Find(`[data-testid="job-confirm"] form input[type=hidden]`).Each(func(_ int, s *goquerySelection) { form.Add(s.AttrOr("name", ""), s.AttrOr("value", "")) })
	p = b.htmx("/jobs/delete", form)
	next := p.Doc.Find(`[data-testid="job-progress"] form[hx-trigger^="load"]`)
	if p.Status != http.StatusOK || next.Length() != 1 || !strings.Contains(p.Doc.Find(`[data-testid="job-progress"]`).Text(), "500 of 520") {
		t.Fatalf("first batch: %d %s", p.Status, p.Body)
	}
	form = url.Values{}
	next.Find(`input[type=hidden]`).Each(func(_ int, s *goquerySelection) { form.Add(s.AttrOr("name", ""), s.AttrOr("value", "")) })
	p = b.htmx(next.AttrOr("hx-post", ""), form)
	if got := p.Doc.Find(`[data-testid="job-outcome"] strong`).Text(); got != "520 deleted" {
		t.Errorf("after the second batch: %q (%s)", got, p.Body)
	}
	if n := a.count(`SELECT count(*) FROM river_job`); n != 0 {
		t.Errorf("%d jobs left", n)
	}
	if n := a.count(`SELECT count(*) FROM audit_events WHERE action = 'job.delete'`); n != 520 {
		t.Errorf("%d deletes audited", n)
	}
	// Tampered progress is refused.
	for _, bad := range []url.Values{{"scope": {"filter"}, "state": {"discarded"}, "after": {"-5"}}, {"scope": {"filter"}, "state": {"discarded"}, "skipped": {"whatever=3"}}} {
		if p := b.htmx("/jobs/delete", bad); p.Status != http.StatusBadRequest {
			t.Errorf("progress %v: %d", bad, p.Status)
		}
	}
}

func TestJobRetrySafetyCheckOverHTTP(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	ctx := context.Background()
	// A payout for a reservation that was cancelled, not settled (put there by hand).
	out, err := e.Service.Reserve(ctx, e.staff, "stray-"+strings.Repeat("k", 8), reservationFor(t, e.app))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.Cancel(ctx, e.staff, "cancel-"+strings.Repeat("k", 8), out.Reservation.ID); err != nil {
		t.Fatal(err)
	}
	res, err := e.Jobs.Insert(ctx, jobs.PartnerPayoutArgs{ReservationID: out.Reservation.ID, AmountCents: 100, Currency: "EUR"}, jobs.ForReservation(out.Reservation.ID))
	if err != nil {
		t.Fatal(err)
	}
	e.outage()
	b := e.browsers["admin"]
	p := b.post(fmt.Sprintf("/jobs/%d/retry", res.Job.ID), nil)
	if got := b.get(p.Location).Doc.Find(`[data-testid="flash"]`); !strings.Contains(got.Text(), "is cancelled, not settled: no payout is due") || !got.HasClass("flash-error") {
		t.Errorf("flash: %q", got.Text())
	}
	if j, _ := e.Jobs.JobGet(ctx, res.Job.ID); j.State != rivertype.JobStateDiscarded {
		t.Errorf("the stray payout is %s", j.State)
	}
}

func TestQueuePauseResumeOverHTTP(t *testing.T) {
	t.Parallel()
	a := newAppWithWorkers(t)
	a.user("op@example.com", tally.RoleOperator)
	b := a.browser()
	b.signIn("op@example.com")
	for a.count(`SELECT count(*) FROM river_queue WHERE name = 'partner'`) == 0 {
		waitABit()
	}
	if p := b.post("/queues/partner/pause", url.Values{"reason": {"partner maintenance"}}); p.Status != http.StatusSeeOther || p.Location != "/queues" {
		t.Fatalf("pause: %d %q", p.Status, p.Location)
	}
	p := b.get("/queues")
	if got := p.Doc.Find(`[data-testid="queue"][data-queue="partner"] [data-testid="queue-status"]`).Text(); got != "paused" {
		t.Errorf("partner queue: %q", got)
	}
	if !strings.Contains(p.Doc.Find(`[data-testid="flash"]`).Text(), "Queue partner paused") {
		t.Errorf("flash: %q", p.Doc.Find(`[data-testid="flash"]`).Text())
	}
	if p := b.get("/jobs"); p.Doc.Find(`[data-testid="queue-row"][data-queue="partner"] [data-testid="paused"]`).Length() != 1 {
		t.Error("the overview does not say the queue is paused")
	}
	for path, want := range map[string]int{"/queues/No%20Such/pause": 400, "/queues/nosuch/pause": 404, "/queues/resume": 303} {
		if p := b.post(path, nil); p.Status != want {
			t.Errorf("POST %s: %d, want %d", path, p.Status, want)
		}
	}
	if got := b.get("/queues").Doc.Find(`[data-testid="queue"][data-queue="partner"] [data-testid="queue-status"]`).Text(); got != "running" {
		t.Errorf("partner queue after resume all: %q", got)
	}
	if n := a.count(`SELECT count(*) FROM audit_events WHERE record_type = 'queue'`); n != 2 {
		t.Errorf("%d queue actions audited, want 2", n)
	}
}
