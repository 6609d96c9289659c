package web_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

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
	if err := a.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_events WHERE action = 'approve'").Scan(&approvals); err != nil {
		t.Fatal(err)
	}
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

// js evaluates expression in the page and returns its value, failing the test on an error.
func js[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expression, err)
	}
	return v
}

// waitFor evaluates expression, once the page has loaded, until it is true, failing the test (with what it waits for)
// after 10s. Errors while a page loads are waited out.
func waitFor(t *testing.T, ctx context.Context, what, expression string) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var ok bool
		if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+expression+`)`)); err == nil && ok {
			return
		}
	}
	t.Fatalf("waiting for %s: timeout (%v)", what, err)
}

// do runs browser steps, failing the test with what on an error.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// click clicks the first element matching css from the page's script: links and buttons in
// a part of the page htmx has just swapped, which chromedp's own click may find gone.
func click(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	waitFor(t, ctx, css, `!!document.querySelector('`+css+`')`)
	js[bool](t, ctx, `document.querySelector('`+css+`').click(), true`)
}

// countText is the JavaScript for the count shown on a status tab.
func countText(status string) string {
	return `document.querySelector('[data-testid="count-` + status + `"] .count').textContent.trim()`
}

// inViewport is the JavaScript that says whether the first element matching css is wholly
// in the viewport.
func inViewport(css string) string {
	return `(() => { const e = document.querySelector('` + css + `'); if (!e) return false;
		const r = e.getBoundingClientRect();
		return r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; })()`
}

// TestBrowserRowActionRefreshesCounts: approving from a filtered list swaps the row, keeps
// the focus on it, keeps the filter, and brings the counts per status up to date.
func TestBrowserRowActionRefreshesCounts(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	ids := []int64{s.reserve(1), s.reserve(1), s.reserve(1)}
	ctx := chrome(t)
	row := fmt.Sprintf("#reservation-%d", ids[1])
	do(t, ctx, "open the held list",
		signIn(s.URL, "kim@example.com"),
		chromedp.Navigate(s.URL+"/reservations?status=held"),
		chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="approve"]`)),
	)
	if held, approved := js[string](t, ctx, countText("held")), js[string](t, ctx, countText("approved")); held != "3" || approved != "0" {
		t.Fatalf("counts before: held %s, approved %s", held, approved)
	}
	do(t, ctx, "approve", chromedp.Click(chromedp.CSS(row+` [data-testid="approve"]`)))
	waitFor(t, ctx, "the approved count to be 1", countText("approved")+` === "1"`)
	if held := js[string](t, ctx, countText("held")); held != "2" {
		t.Errorf("held count after approving one of three: %s", held)
	}
	if got := js[string](t, ctx, `document.querySelector('[data-testid="showing"]').textContent`); got != "Showing 1–3 of 2" && got != "Showing 1–3 of 3" {
		t.Logf("showing after the action: %q", got) // the rows stay until the list is read again
	}
	if got := js[string](t, ctx, `location.search`); got != "?status=held" {
		t.Errorf("the address lost its filter: %q", got)
	}
	if got := js[string](t, ctx, `document.querySelector('`+row+`').dataset.status`); got != "approved" {
		t.Errorf("the row says %q", got)
	}
	if !js[bool](t, ctx, `!!document.activeElement.closest('`+row+`')`) {
		t.Errorf("the focus is on %s, not in the row acted on", js[string](t, ctx, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	waitFor(t, ctx, "the row acted on to stay the current one", `!!document.querySelector('`+row+`.current')`)
	if !js[bool](t, ctx, inViewport(`#flash [data-testid="flash"]`)) || !strings.Contains(text(t, ctx, `#flash`), fmt.Sprintf("Approved reservation #%d", ids[1])) {
		t.Errorf("toast: %q", text(t, ctx, `#flash`))
	}
}

// TestBrowserToastInViewportAtTheBottom: an action at the bottom of a long list shows its
// outcome in the viewport, and the focus stays on the row.
func TestBrowserToastInViewportAtTheBottom(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 100)
	var last int64
	for i := 0; i < 60; i++ {
		id := s.reserve(1)
		if i == 0 {
			last = id // the oldest, at the bottom of newest-first
		}
	}
	ctx := chrome(t)
	row := fmt.Sprintf("#reservation-%d", last)
	do(t, ctx, "open a long list and scroll to its bottom",
		signIn(s.URL, "kim@example.com"),
		chromedp.Navigate(s.URL+"/reservations?size=100"),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.ScrollIntoView(chromedp.CSS(row+` [data-testid="approve"]`)),
	)
	if y := js[float64](t, ctx, `scrollY`); y < 1000 {
		t.Fatalf("the page scrolled only %.0f px: not a long list", y)
	}
	do(t, ctx, "approve the last row",
		chromedp.Click(chromedp.CSS(row+` [data-testid="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(row+`[data-status="approved"]`)),
	)
	waitFor(t, ctx, "the toast", `!!document.querySelector('#flash [data-testid="flash"]')`)
	if !js[bool](t, ctx, inViewport(`#flash .toast`)) {
		t.Errorf("the toast is out of the viewport: %v", js[map[string]any](t, ctx, `document.querySelector('#flash .toast').getBoundingClientRect().toJSON()`))
	}
	if !js[bool](t, ctx, inViewport(row)) {
		t.Error("the row acted on went out of the viewport")
	}
	if got := js[string](t, ctx, `document.activeElement.dataset.testid || ""`); got != "settle" || !js[bool](t, ctx, `!!document.activeElement.closest('`+row+`')`) {
		t.Errorf("focus after approving: %q", got)
	}
}

// TestBrowserBulkSettleRefreshesTheList: nothing ticked is said at once, without a confirm;
// a bulk settle updates the rows, the counts and the selection in place and shows its outcome
// in the viewport.
func TestBrowserBulkSettleRefreshesTheList(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 100)
	var approved []int64
	for i := 0; i < 40; i++ {
		id := s.reserve(1)
		if i < 3 {
			if _, err := s.Service.Approve(context.Background(), s.staff, "bulk-refresh-"+fixture.Unique(), id); err != nil {
				t.Fatal(err)
			}
			approved = append(approved, id)
		}
	}
	ctx := chrome(t)
	do(t, ctx, "open the list, scrolled to the bottom",
		signIn(s.URL, "kim@example.com"),
		chromedp.Navigate(s.URL+"/reservations?o=id&dir=desc&size=50"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-settle"]`)),
		chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="bulk-settle"]`)),
	)
	js[bool](t, ctx, `window.asked = 0; window.confirm = () => { window.asked++; return true; }; true`)
	do(t, ctx, "settle with nothing ticked", chromedp.Click(chromedp.CSS(`[data-testid="bulk-settle"]`)))
	waitFor(t, ctx, "a toast saying nothing is selected", `(document.querySelector('#flash').textContent || "").includes("Nothing is selected")`)
	if asked := js[int](t, ctx, `window.asked`); asked != 0 {
		t.Errorf("a confirm dialog opened %d times with nothing ticked", asked)
	}
	if !js[bool](t, ctx, inViewport(`#flash .toast`)) {
		t.Error("the nothing-selected toast is out of the viewport")
	}
	do(t, ctx, "tick all and settle",
		chromedp.Click(chromedp.CSS(`input[data-select-all]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="bulk-settle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-result"]`)),
	)
	if asked := js[int](t, ctx, `window.asked`); asked != 1 {
		t.Errorf("asked %d times, want once", asked)
	}
	if got := text(t, ctx, `[data-testid="bulk-result"] .flash`); !strings.Contains(got, "Settled 3; 0 could not be settled") {
		t.Errorf("bulk result: %q", got)
	}
	if !js[bool](t, ctx, inViewport(`[data-testid="bulk-result"] .flash`)) || !js[bool](t, ctx, inViewport(`#flash .toast`)) {
		t.Errorf("the outcome is out of the viewport (scrollY %v)", js[float64](t, ctx, `scrollY`))
	}
	if got := js[string](t, ctx, `document.activeElement.id`); got != "bulk-result" {
		t.Errorf("focus after the bulk settle: %q", got)
	}
	if a, st := js[string](t, ctx, countText("approved")), js[string](t, ctx, countText("settled")); a != "0" || st != "3" {
		t.Errorf("counts after settling 3: approved %s, settled %s", a, st)
	}
	for _, id := range approved {
		if got := js[string](t, ctx, fmt.Sprintf(`document.querySelector('#reservation-%d').dataset.status`, id)); got != "settled" {
			t.Errorf("row %d says %q", id, got)
		}
	}
	if n := js[int](t, ctx, `document.querySelectorAll('input[name="id"]').length`); n != 0 {
		t.Errorf("%d boxes left to tick", n)
	}
	if got := js[string](t, ctx, `location.search`); got != "?o=id&dir=desc&size=50" {
		t.Errorf("the address changed: %q", got)
	}
	if got := js[string](t, ctx, `document.querySelector('th[aria-sort] a').dataset.testid`); got != "sort-id" {
		t.Errorf("sorted by %q after the bulk settle", got)
	}
}

// TestBrowserSortAndPage: sorting by a column header, a page size, and paging forward and
// back.
func TestBrowserSortAndPage(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 500)
	listSeed(t, s, 60)
	ctx := chrome(t)
	showing := `document.querySelector('[data-testid="showing"]').textContent`
	do(t, ctx, "open the list",
		signIn(s.URL, "kim@example.com"),
		chromedp.Navigate(s.URL+"/reservations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sort-amount"]`)),
		chromedp.SetValue(chromedp.CSS(`select[name="size"]`), "25"),
	)
	js[bool](t, ctx, `document.querySelector('select[name="size"]').dispatchEvent(new Event("change", {bubbles: true}))`)
	waitFor(t, ctx, "25 a page", showing+` === "Showing 1–25 of 60"`)
	click(t, ctx, `[data-testid="sort-amount"]`)
	waitFor(t, ctx, "the amount sort", `document.querySelector('th[aria-sort="descending"] [data-testid="sort-amount"]') !== null`)
	amounts := `Array.from(document.querySelectorAll('[data-testid="reservation-row"] td:nth-child(7)')).map(td => parseFloat(td.textContent.replace(/[^0-9.]/g, "")))`
	first := js[[]float64](t, ctx, amounts)
	if len(first) != 25 || !slices.IsSortedFunc(first, func(a, b float64) int { return cmp.Compare(b, a) }) {
		t.Errorf("amounts, dearest first, 25 of them: %v", first)
	}
	ids := `Array.from(document.querySelectorAll('[data-testid="reservation-row"]')).map(r => r.id).join(",")`
	page1 := js[string](t, ctx, ids)
	click(t, ctx, `[data-testid="next-page"]`)
	waitFor(t, ctx, "page 2", showing+` === "Showing 26–50 of 60"`)
	second := js[[]float64](t, ctx, amounts)
	if second[0] > first[len(first)-1] {
		t.Errorf("page 2 starts at %v, dearer than page 1's last %v", second[0], first[len(first)-1])
	}
	click(t, ctx, `[data-testid="next-page"]`)
	waitFor(t, ctx, "page 3", showing+` === "Showing 51–60 of 60"`)
	if js[bool](t, ctx, `!!document.querySelector('[data-testid="next-page"]')`) {
		t.Error("the last page offers Next")
	}
	click(t, ctx, `[data-testid="prev-page"]`)
	waitFor(t, ctx, "page 2 again", showing+` === "Showing 26–50 of 60"`)
	click(t, ctx, `[data-testid="prev-page"]`)
	waitFor(t, ctx, "page 1 again", showing+` === "Showing 1–25 of 60"`)
	if got := js[string](t, ctx, ids); got != page1 {
		t.Errorf("page 1 again:\n got %s\nwant %s", got, page1)
	}
	if got := js[string](t, ctx, `document.querySelector('select[name="size"]').value`); got != "25" {
		t.Errorf("page size after paging: %s", got)
	}
}

// TestBrowserKeyboard: / searches, j and k move between rows, Enter opens one, ? lists the
// keys, and keys typed in a field stay in the field.
func TestBrowserKeyboard(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	ids := []int64{s.reserve(1), s.reserve(1), s.reserve(1)} // shown newest first
	ctx := chrome(t)
	do(t, ctx, "open the list",
		signIn(s.URL, "kim@example.com"),
		chromedp.Navigate(s.URL+"/reservations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reservation-row"]`)),
	)
	if got := js[string](t, ctx, `document.querySelector('a.skip-link').getAttribute('href')`); got != "#main" || !js[bool](t, ctx, `!!document.getElementById('main')`) {
		t.Errorf("skip link to %q", got)
	}
	current := `(document.querySelector('tr.current') || {}).id || ""`
	do(t, ctx, "j j k", chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), chromedp.KeyEvent("k"), chromedp.KeyEvent("j"))
	if got := js[string](t, ctx, current); got != fmt.Sprintf("reservation-%d", ids[1]) {
		t.Errorf("after j j k j the current row is %q", got)
	}
	if js[string](t, ctx, `document.activeElement.id`) != fmt.Sprintf("reservation-%d", ids[1]) {
		t.Error("the current row does not have the focus")
	}
	if js[string](t, ctx, `getComputedStyle(document.querySelector('tr.current td')).backgroundColor`) == js[string](t, ctx, `getComputedStyle(document.querySelector('tr:not(.current) td')).backgroundColor`) {
		t.Error("the current row looks like the others")
	}
	do(t, ctx, "Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`[data-testid="fields"]`)))
	if got := js[string](t, ctx, `location.pathname`); got != fmt.Sprintf("/reservations/%d", ids[1]) {
		t.Errorf("Enter opened %s", got)
	}
	do(t, ctx, "back to the list",
		chromedp.NavigateBack(),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reservation-row"]`)),
		chromedp.KeyEvent("?"),
	)
	waitFor(t, ctx, "the keys overlay", `document.getElementById('keyboard-help').open`)
	if got := text(t, ctx, `#keyboard-help`); !strings.Contains(got, "Next and previous row") {
		t.Errorf("overlay: %q", got)
	}
	do(t, ctx, "Escape closes it", chromedp.KeyEvent(kb.Escape))
	waitFor(t, ctx, "the overlay to close", `!document.getElementById('keyboard-help').open`)
	do(t, ctx, "/ then j in the search", chromedp.KeyEvent("/"))
	if got := js[string](t, ctx, `document.activeElement.name`); got != "q" {
		t.Fatalf("/ focused %q, not the search", got)
	}
	before := js[string](t, ctx, current)
	do(t, ctx, "type j k", chromedp.KeyEvent("jk"))
	if got := js[string](t, ctx, `document.activeElement.value`); got != "jk" {
		t.Errorf("the search holds %q", got)
	}
	if got := js[string](t, ctx, current); got != before {
		t.Errorf("typing moved the current row from %q to %q", before, got)
	}
}

// TestBrowserListFitsTheScreen: at 800 px the page does not scroll sideways (the table
// scrolls in its own box); at 1366 px a resource's name does not wrap onto three lines.
func TestBrowserListFitsTheScreen(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	if _, err := s.Pool.Exec(context.Background(), `UPDATE resources SET name = 'Wine Cellar Tasting and Harbour Tour' WHERE id = $1`, s.slot.ResourceID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		s.reserve(1)
	}
	ctx := chrome(t)
	do(t, ctx, "open the list at 800 px",
		signIn(s.URL, "kim@example.com"),
		chromedp.EmulateViewport(800, 900),
		chromedp.Navigate(s.URL+"/reservations"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="reservation-row"]`)),
	)
	if sw, cw := js[int](t, ctx, `document.documentElement.scrollWidth`), js[int](t, ctx, `document.documentElement.clientWidth`); sw > cw {
		t.Errorf("at 800 px the page is %d px wide in %d", sw, cw)
	}
	lines := `Math.max(...Array.from(document.querySelectorAll('td.resource')).map(td => {
		const r = document.createRange(); r.selectNodeContents(td);
		return new Set(Array.from(r.getClientRects()).map(q => Math.round(q.top))).size; }))`
	do(t, ctx, "1366 px", chromedp.EmulateViewport(1366, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`td.resource`)))
	if n := js[int](t, ctx, lines); n > 2 {
		t.Errorf("at 1366 px a resource takes %d lines", n)
	}
	if sw, cw := js[int](t, ctx, `document.documentElement.scrollWidth`), js[int](t, ctx, `document.documentElement.clientWidth`); sw > cw {
		t.Errorf("at 1366 px the page is %d px wide in %d", sw, cw)
	}
}
