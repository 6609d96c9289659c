package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"tally"
	"tally/internal/fixture"
	"tally/reservations"
)

// chrome starts headless Chromium for a browser test. Without Chromium the test is skipped,
// except under CI=true, where a skipped browser test would hide a broken install: it fails.
func chrome(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium is not installed, and CI=true needs the browser tests (apt-get install chromium)")
		}
		t.Skip("Chromium is not installed; browser tests skipped (apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

func TestBrowserStaffSignsIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("kim@example.com", tally.RoleStaff)
	ctx := chrome(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "kim@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), testPassword),
		chromedp.Submit(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dashboard-numbers`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	heading := text(t, ctx, `h1`)
	who := text(t, ctx, `[data-testid="whoami"]`)
	staffCount := text(t, ctx, `[data-testid="users-staff"] .card-value`)
	if heading != "Dashboard" || !strings.Contains(who, "kim@example.com") || staffCount != "1" {
		t.Errorf("dashboard shows heading %q, user %q, staff count %q", heading, who, staffCount)
	}
}

// text returns the text of the first element matching the CSS selector.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

func TestBrowserReserveApproveSettle(t *testing.T) {
	t.Parallel()
	a := newAppWithWorkers(t)
	a.user("kim@example.com", tally.RoleStaff)
	slot, customer := fixture.Slot(t, a.Pool, 10, 3000), fixture.Customer(t, a.Pool)
	ctx := chrome(t)

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("sign in",
		signIn(a.URL, "kim@example.com"),
	)
	step("reserve",
		chromedp.Navigate(a.URL+"/reservations"),
		chromedp.Click(chromedp.CSS(`[data-testid="new-reservation"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-reservation-form"]`)),
		chromedp.SetValue(chromedp.CSS(`select[name="slot_id"]`), strconv.FormatInt(slot.ID, 10)),
		chromedp.SetValue(chromedp.CSS(`select[name="customer_id"]`), strconv.FormatInt(customer.ID, 10)),
		chromedp.SetValue(chromedp.CSS(`input[name="seats"]`), "3"),
	)
	// The form checks itself while it is filled in.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[name="seats"]').dispatchEvent(new Event("change", {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('[data-testid="quote"]').textContent.includes("total EUR 90.00")`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the quote for 3 seats never showed: %v (it says %q)", err, text(t, ctx, `[data-testid="quote"]`))
	}
	step("submit",
		chromedp.Submit(chromedp.CSS(`[data-testid="new-reservation-form"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="approve"]`)),
	)
	if got := text(t, ctx, `[data-testid="flash"]`); !strings.Contains(got, "Reserved 3 seats") {
		t.Errorf("flash after reserving: %q", got)
	}
	step("approve with an impatient double click",
		chromedp.DoubleClick(chromedp.CSS(`[data-testid="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="settle"]`)),
	)
	var approvals int
	a.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE action = 'approve'").Scan(&approvals)
	if approvals != 1 {
		t.Errorf("%d approvals after a double click, want 1", approvals)
	}
	if got := text(t, ctx, `h1 [data-testid="status"]`); got != "approved" {
		t.Errorf("status after approving: %q", got)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`)); err != nil {
		t.Fatal(err)
	}
	step("settle and see the payout complete",
		chromedp.Click(chromedp.CSS(`[data-testid="settle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="ledger"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="job-row"][data-kind="partner_payout"][data-state="completed"]`)),
	)
	if got := text(t, ctx, `h1 [data-testid="status"]`); got != "settled" {
		t.Errorf("status after settling: %q", got)
	}
}

func TestBrowserStaleRowShowsWhy(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	kim := a.user("kim@example.com", tally.RoleStaff)
	lee := a.user("lee@example.com", tally.RoleStaff)
	slot, customer := fixture.Slot(t, a.Pool, 10, 3000), fixture.Customer(t, a.Pool)
	out, err := a.Service.Reserve(context.Background(), reservations.Actor{ID: kim.ID, Email: kim.Email}, "stale-row-key-1",
		reservations.NewReservation{SlotID: slot.ID, CustomerID: customer.ID, Seats: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := chrome(t)
	row := fmt.Sprintf("#reservation-%d", out.Reservation.ID)
	if err := chromedp.Do(ctx,
		signIn(a.URL, "kim@example.com"),
		chromedp.Navigate(a.URL+"/reservations"),
		chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="approve"]`)),
	); err != nil {
		t.Fatal(err)
	}
	// Lee approves it while Kim's page still offers Approve.
	if _, err := a.Service.Approve(context.Background(), reservations.Actor{ID: lee.ID, Email: lee.Email}, "stale-row-key-2", out.Reservation.ID); err != nil {
		t.Fatal(err)
	}
	// No confirm dialog may open here (it would block the click): Approve asks nothing.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` [data-testid="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-status="approved"] [data-testid="settle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash .flash-error`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `#flash`); !strings.Contains(got, "already approved by lee@example.com") {
		t.Errorf("flash: %q", got)
	}
}

func TestBrowserBulkSettle(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	kim := a.user("kim@example.com", tally.RoleStaff)
	actor := reservations.Actor{ID: kim.ID, Email: kim.Email}
	slot, customer := fixture.Slot(t, a.Pool, 20, 1500), fixture.Customer(t, a.Pool)
	for i := 0; i < 4; i++ {
		out, err := a.Service.Reserve(context.Background(), actor, fmt.Sprintf("bulk-browser-%d", i),
			reservations.NewReservation{SlotID: slot.ID, CustomerID: customer.ID, Seats: 1})
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 { // three approved, one left held (no checkbox)
			if _, err := a.Service.Approve(context.Background(), actor, fmt.Sprintf("bulk-browser-a%d", i), out.Reservation.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := chrome(t)
	if err := chromedp.Do(ctx,
		signIn(a.URL, "kim@example.com"),
		chromedp.Navigate(a.URL+"/reservations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-settle"]`)),
		chromedp.Click(chromedp.CSS(`input[data-select-all]`)),
	); err != nil {
		t.Fatal(err)
	}
	checked, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name="id"]:checked').length`))
	if err != nil || checked != 3 {
		t.Fatalf("select all ticked %d boxes (%v), want the 3 approved", checked, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-settle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-result"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, `[data-testid="bulk-result"] .flash`); !strings.Contains(got, "Settled 3; 0 could not be settled") {
		t.Errorf("bulk result: %q", got)
	}
}

// signIn is the browser steps of signing in as email, ending on the dashboard.
func signIn(base, email string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), testPassword),
		chromedp.Submit(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dashboard-numbers`)),
	)
}
