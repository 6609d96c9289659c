package web_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tally"
)

// TestBrowserQueryAnalysis: an engineer opens the reservation list's query, fills its
// parameters with the busiest slot, runs it, tries a candidate index for real, and sees both
// plans side by side with the picture of the run times.
func TestBrowserQueryAnalysis(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	seedQueries(t, a)
	a.user("eng@example.com", tally.RoleEngineer)
	ctx := chrome(t)

	do(t, ctx, "open the query",
		signIn(a.URL, "eng@example.com"),
		chromedp.Navigate(a.URL+"/queries"),
		chromedp.Click(chromedp.CSS(`a[data-query="ReservationListNewest"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="query-sql"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="param-sets"] a[data-set="busy-slot"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="param-sets"] a.selected[data-set="busy-slot"]`)),
	)
	if slot := js[string](t, ctx, `document.querySelector('input[name="p2"]').value`); slot == "" {
		t.Fatal("the busiest slot did not fill the slot parameter")
	}
	do(t, ctx, "run it",
		chromedp.Click(chromedp.CSS(`[data-testid="run"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#plan-area [data-testid="plan-tree"]`)),
	)
	if n := js[int](t, ctx, `document.querySelectorAll('#plan-area [data-testid="plan-node"]').length`); n < 3 {
		t.Fatalf("the plan has %d nodes", n)
	}
	if got := text(t, ctx, `[data-testid="execution-time"]`); !strings.HasSuffix(got, "ms") {
		t.Errorf("execution time %q", got)
	}
	screenshot(t, ctx, "query-bench")
	// A candidate index that lets the list walk one slot's reservations newest first: on
	// reservations (choosing the table brings its columns).
	js[bool](t, ctx, `(() => { const s = document.querySelector('[data-testid="candidate-table"]');
		if (s.value !== "reservations") { s.value = "reservations"; s.dispatchEvent(new Event("change", {bubbles: true})); } return true; })()`)
	waitFor(t, ctx, "the columns of reservations", `!!document.querySelector('[data-testid="candidate-col1"] option[value="slot_id"]')`)
	do(t, ctx, "choose a candidate",
		chromedp.SetValue(chromedp.CSS(`[data-testid="candidate-col1"]`), "slot_id"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="candidate-col2"]`), "id"),
		chromedp.SetValue(chromedp.CSS(`input[name="runs"]`), "5"),
	)
	js[bool](t, ctx, `window.confirm = () => true; true`)
	do(t, ctx, "build, measure and drop",
		chromedp.Click(chromedp.CSS(`[data-testid="compare-real"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-facts"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="side-by-side"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="run-plot"]`)),
	)
	if got := text(t, ctx, `[data-testid="candidate-ddl"]`); got != `"reservations" ("slot_id", "id")` {
		t.Errorf("candidate %q", got)
	}
	if n := js[int](t, ctx, `document.querySelectorAll('[data-testid="run-plot"] [data-testid="run-dot"]').length`); n != 10 {
		t.Errorf("%d runs drawn, want 5 + 5", n)
	}
	for _, side := range []string{"plan-a", "plan-b"} {
		if n := js[int](t, ctx, `document.querySelectorAll('[data-testid="`+side+`"] [data-testid="plan-node"]').length`); n < 3 {
			t.Errorf("%s has %d nodes", side, n)
		}
	}
	if v := text(t, ctx, `[data-testid="verdict"]`); v == "" {
		t.Error("no verdict")
	}
	// Side by side: B's plan starts level with A's, to its right.
	if !js[bool](t, ctx, `(() => { const a = document.querySelector('[data-testid="plan-a"]').getBoundingClientRect(),
		b = document.querySelector('[data-testid="plan-b"]').getBoundingClientRect(); return b.left >= a.right - 1 && Math.abs(a.top - b.top) < 2; })()`) {
		t.Error("the plans are not side by side")
	}
	screenshot(t, ctx, "query-comparison")
	var left int
	if err := a.Pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'tally_candidate_%'").Scan(&left); err != nil || left != 0 {
		t.Errorf("%d candidate indexes left (%v)", left, err)
	}
}

// screenshot keeps the page's main part as TALLY_SCREENSHOTS/name.png, when that is set: to
// look at the pages a test went through.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("TALLY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("main")))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(dir+"/"+name+".png", png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}
