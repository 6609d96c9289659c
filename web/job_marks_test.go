package web_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"tally"
	"tally/operations"
	"tally/views"
)

// renderDoc renders a component into a document to query.
func renderDoc(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestJobMarks checks the parts other pages show: a reservation's payout mark, a retry
// button for operators only, and the dashboard's queue health with a paused queue in it.
func TestJobMarks(t *testing.T) {
	t.Parallel()
	mark := operations.PayoutMark{ReservationID: 7, JobID: 42, Problem: operations.PayoutCancelled, Label: "payout cancelled: partner refused",
		State: "cancelled", Attempt: 1, MaxAttempts: 10, LastError: "partner refused the request: 422 closed"}
	a := renderDoc(t, views.JobPayoutMark(mark)).Find(`[data-testid="payout-mark"]`)
	if a.AttrOr("href", "") != "/jobs/42" || a.Text() != "payout cancelled: partner refused" || a.AttrOr("data-problem", "") != "cancelled" {
		t.Errorf("mark: %q %q", a.AttrOr("href", ""), a.Text())
	}
	if n := renderDoc(t, views.JobPayoutMark(operations.PayoutMark{})).Find(`[data-testid="payout-mark"]`).Length(); n != 0 {
		t.Error("a reservation without a problem is marked")
	}
	for role, want := range map[tally.Role]int{tally.RoleOperator: 1, tally.RoleAdmin: 1, tally.RoleStaff: 0, tally.RoleEngineer: 0} {
		p := views.Page{User: &views.SignedIn{Role: role}, CSRF: "token"}
		if n := renderDoc(t, views.JobRetryForm(p, 42, "discarded")).Find(`form[action="/jobs/42/retry"] input[name="then"][value="reservation"]`).Length(); n != want {
			t.Errorf("retry button for %s: %d", role, n)
		}
		if n := renderDoc(t, views.JobRetryForm(p, 42, "completed")).Find(`form`).Length(); n != 0 {
			t.Errorf("a completed job offers a retry to %s", role)
		}
	}
	h := operations.Health{Totals: map[string]operations.Count{operations.StateDiscarded: {N: 3}}, Paused: []string{"partner"}, PayoutsFailing: 2}
	doc := renderDoc(t, views.JobHealthCards(h))
	if !doc.Find(`[data-testid="health-discarded"]`).HasClass("bad") || doc.Find(`[data-testid="health-paused"]`).Length() != 1 ||
		doc.Find(`[data-testid="health-payouts"] .card-value`).Text() == "0" {
		t.Errorf("health cards: %s", doc.Text())
	}
}
