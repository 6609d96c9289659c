package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"tally"
	"tally/accounts"
	"tally/internal/fixture"
	"tally/reservations"
)

// TestBrowserRefusalsShowInPlace: what the server refuses is said where the user looks, and
// leaves the page (and its address) as it was; a session that ended says so.
func TestBrowserRefusalsShowInPlace(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	staff := a.user("kim@example.com", tally.RoleStaff)
	admin := a.user(longEmail, tally.RoleAdmin)
	slot, customer := fixture.Slot(t, a.Pool, 10, 1000), fixture.Customer(t, a.Pool)
	if _, err := a.Service.Reserve(context.Background(), tally.Actor{ID: staff.ID, Email: staff.Email}, "refusals-key-1",
		reservations.NewReservation{SlotID: slot.ID, CustomerID: customer.ID, Seats: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // audit rows naming long addresses, as the dashboard and the audit log show them
		if _, err := accounts.NewService(a.Pool, false).Create(context.Background(), tally.Actor{ID: admin.ID, Email: admin.Email},
			accounts.NewUser{Email: fmt.Sprintf("another.member.of.staff.with.a.long.name.%d@example-company.test", i),
				Role: tally.RoleStaff, Password: testPassword}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := chrome(t)
	do(t, ctx, "sign in", signIn(a.URL, "kim@example.com"), chromedp.Navigate(a.URL+"/reservations?status=held"))
	waitFor(t, ctx, "the list", `!!document.querySelector('[data-testid="approve"]')`)

	t.Run("a date the filter cannot read is a toast, and the list and address stay", func(t *testing.T) {
		before := js[string](t, ctx, `location.href`)
		js[bool](t, ctx, `(() => { const to = document.querySelector('input[name="to"]'); to.value = "31/12/2026";
			to.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
		waitFor(t, ctx, "an error toast", `!!document.querySelector('#flash [data-toast="error"]')`)
		if msg := js[string](t, ctx, `document.querySelector('#flash [data-toast="error"]').textContent`); !strings.Contains(msg, "2026-01-31") {
			t.Errorf("toast %q does not say what a date looks like", msg)
		}
		if after := js[string](t, ctx, `location.href`); after != before {
			t.Errorf("address moved to %s", after)
		}
		if !js[bool](t, ctx, `!!document.querySelector('[data-testid="approve"]')`) {
			t.Error("the rows are gone")
		}
	})

	t.Run("no page scrolls sideways at 800 px", func(t *testing.T) {
		js[bool](t, ctx, logoutJS)
		do(t, ctx, "sign in as admin", chromedp.EmulateViewport(800, 900), signIn(a.URL, longEmail))
		for _, path := range []string{"/", "/audit", "/users", "/reservations", "/slots", "/reports"} {
			do(t, ctx, path, chromedp.Navigate(a.URL+path))
			waitFor(t, ctx, path+" loaded", `!!document.querySelector('main h1')`)
			if !js[bool](t, ctx, `document.documentElement.scrollWidth <= document.documentElement.clientWidth`) {
				t.Errorf("%s scrolls sideways at 800 px: %d > %d", path,
					js[int](t, ctx, `document.documentElement.scrollWidth`), js[int](t, ctx, `document.documentElement.clientWidth`))
			}
		}
	})

	t.Run("an action after signing out elsewhere says so and goes to sign in", func(t *testing.T) {
		js[bool](t, ctx, logoutJS)
		do(t, ctx, "back as staff", signIn(a.URL, "kim@example.com"), chromedp.Navigate(a.URL+"/reservations?status=held"))
		waitFor(t, ctx, "the list", `!!document.querySelector('[data-testid="approve"]')`)
		// Another tab signs out: the session ends on the server, this page does not know.
		js[bool](t, ctx, logoutJS)
		click(t, ctx, `[data-testid="approve"]`)
		waitFor(t, ctx, "the sign-in page", `location.pathname === "/login"`)
		var held int
		if err := a.Pool.QueryRow(context.Background(), "SELECT count(*) FROM reservations WHERE status = 'held'").Scan(&held); err != nil || held != 1 {
			t.Errorf("held reservations %d (%v), want 1: nothing done", held, err)
		}
	})
}

// longEmail is an address as long as real ones get, which tables must not let push the page wide.
const longEmail = "administrator.of.the.back.office.with.a.long.name@example-company.test"

// logoutJS signs the page's session out from script, as another tab of the browser would.
const logoutJS = `(() => { const x = new XMLHttpRequest(); x.open("POST", "/logout", false);
	x.setRequestHeader("X-CSRF-Token", JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]); x.send(); return true })()`
