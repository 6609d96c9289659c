package web_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/internal/fixture"
	"tally/jobs"
)

// TestBrowserRetryFailureGroup is the operator's story in Chromium: after a partner outage
// the discarded payouts are one failure group with the money at stake; the partner is back,
// the operator retries the group, and the real workers pay each reservation once; the jobs
// link to their reservations.
func TestBrowserRetryFailureGroup(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	staff := a.user("kim@example.com", tally.RoleStaff)
	a.user("ops@example.com", tally.RoleOperator)
	reservations := a.settled(tally.Actor{ID: staff.ID, Email: staff.Email}, 3)
	a.outage()
	sim, partner := fixture.Partner(t)
	fixture.Workers(t, a.Pool, a.Service, partner) // the partner is back
	ctx := chrome(t)

	group := `[data-testid="failure-group"][data-kind="partner_payout"]`
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("see the failure group",
		signIn(a.URL, "ops@example.com"),
		chromedp.Navigate(a.URL+"/jobs/failures"),
		chromedp.WaitVisible(chromedp.CSS(group)),
	)
	if got := text(t, ctx, group+` [data-testid="failure-pattern"]`); got != "partner /payouts: 503 partner outage" {
		t.Errorf("the group's error: %q", got)
	}
	if got := text(t, ctx, group+` [data-testid="failure-jobs"]`); got != "3" {
		t.Errorf("the group's jobs: %q", got)
	}
	if got := text(t, ctx, group+` [data-testid="at-stake"]`); !strings.HasPrefix(got, "EUR ") {
		t.Errorf("at stake: %q", got)
	}
	step("retry the group",
		chromedp.Click(chromedp.CSS(group+` [data-testid="retry-group"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-confirm"] [data-testid="confirm-action"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="filter-reason"]`), "partner is back"),
		chromedp.Click(chromedp.CSS(`[data-testid="confirm-action"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-outcome"]`)),
	)
	if got := text(t, ctx, `[data-testid="job-outcome"] strong`); got != "3 retried" {
		t.Errorf("outcome: %q", got)
	}
	if got := text(t, ctx, `#flash`); !strings.Contains(got, "3 retried") {
		t.Errorf("flash: %q", got)
	}
	// The groups read themselves again: the payout group is gone.
	step("the group is gone", chromedp.WaitNotPresent(chromedp.CSS(group)))
	if os.Getenv("TALLY_SCREENSHOTS") != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
			os.WriteFile(os.Getenv("TALLY_SCREENSHOTS")+"/failures.png", png, 0o644) //nolint:errcheck // a debugging aid
		}
	}

	a.waitJobs(a.jobIDs(jobs.PartnerPayoutArgs{}.Kind()), rivertype.JobStateCompleted)
	paid := map[int64]int{}
	for _, p := range sim.Payouts() {
		paid[p.ReservationID]++
	}
	for _, id := range reservations {
		if paid[id] != 1 {
			t.Errorf("reservation %d paid %d times", id, paid[id])
		}
	}
	step("the completed payouts link to their reservations",
		chromedp.Navigate(a.URL+"/jobs?state=completed&kind=partner_payout"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-row"][data-state="completed"]`)),
	)
	links := js[[]string](t, ctx, `Array.from(document.querySelectorAll('[data-testid="job-row"] a[href^="/reservations/"]')).map(a => a.getAttribute("href")).sort()`)
	if len(links) != 3 {
		t.Fatalf("reservation links: %v", links)
	}
	for _, id := range reservations {
		found := false
		for _, l := range links {
			found = found || l == fmt.Sprintf("/reservations/%d", id)
		}
		if !found {
			t.Errorf("no link to reservation %d in %v", id, links)
		}
	}
	step("the job's page leads to its reservation",
		chromedp.Click(chromedp.CSS(`[data-testid="job-row"] td.num a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-reservation"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="job-reservation"]`)),
		chromedp.WaitVisible(chromedp.CSS(`h1 [data-testid="status"]`)),
	)
	if got := text(t, ctx, `h1 [data-testid="status"]`); got != "settled" {
		t.Errorf("the reservation: %q", got)
	}
}
