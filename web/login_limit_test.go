package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tally"
	"tally/accounts"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/reservations"
	"tally/web"
)

// newProxiedApp is newApp behind a trusted proxy: the client address comes from
// X-Forwarded-For, so that one test can sign in from many addresses.
func newProxiedApp(t *testing.T) *app {
	pool := testdb.New(t)
	inserter := fixture.Inserter(t, pool)
	svc := reservations.NewService(pool, inserter, reservations.Config{})
	srv := httptest.NewServer(web.New(web.Config{TrustProxy: true, Logger: slog.New(slog.DiscardHandler)}, pool, svc, inserter))
	t.Cleanup(srv.Close)
	return &app{t: t, URL: srv.URL, Pool: pool, Service: svc, Jobs: inserter}
}

// browserAt is a browser whose requests come from address ip (through the proxy).
func (a *app) browserAt(ip string) *browser {
	b := a.browser()
	b.http.Transport = forwardedFor{ip: ip}
	return b
}

type forwardedFor struct{ ip string }

func (f forwardedFor) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Forwarded-For", f.ip)
	return http.DefaultTransport.RoundTrip(req)
}

func signInAs(b *browser, email, password string) page {
	b.get("/login")
	return b.post("/login", url.Values{"email": {email}, "password": {password}})
}

func countRows(t *testing.T, a *app, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := a.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Thirty wrong passwords for one account from one address, sent at once, get no more
// password checks than the limit allows; the rest are told to wait.
func TestSignInLimitHoldsAgainstConcurrentGuesses(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("kim@example.com", tally.RoleStaff)
	const n = 30
	browsers := make([]*browser, n)
	for i := range browsers {
		browsers[i] = a.browser()
		browsers[i].get("/login") // a session and its CSRF token, as a visitor of the form has
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, b := range browsers {
		wg.Go(func() {
			form := url.Values{"email": {"kim@example.com"}, "password": {"wrong password"}, "_csrf": {b.token()}}
			req, _ := http.NewRequest(http.MethodPost, a.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			<-start
			res, err := b.http.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	got := map[int]int{}
	for _, s := range statuses {
		got[s]++
	}
	if got[http.StatusUnauthorized] != accounts.MaxFailuresPerPair || got[http.StatusTooManyRequests] != n-accounts.MaxFailuresPerPair {
		t.Errorf("%d wrong passwords at once: %v, want %d × 401 and the rest 429", n, got, accounts.MaxFailuresPerPair)
	}
	if checks := countRows(t, a, "SELECT count(*) FROM login_attempts"); checks > accounts.MaxFailuresPerPair {
		t.Errorf("%d password checks, want at most %d", checks, accounts.MaxFailuresPerPair)
	}
}

// An attack on an account from elsewhere neither locks its owner out nor hides from the
// admin, who sees the limits on the users page and lifts them, audited.
func TestSignInWhileAttackedFromElsewhere(t *testing.T) {
	t.Parallel()
	a := newProxiedApp(t)
	kim := a.user("kim@example.com", tally.RoleAdmin)
	a.user("root@example.com", tally.RoleAdmin)
	const home = "198.51.100.7"
	if p := signInAs(a.browserAt(home), "kim@example.com", testPassword); p.Status != http.StatusSeeOther {
		t.Fatalf("kim at home: %d", p.Status)
	}

	attackers := []string{"203.0.113.1", "203.0.113.2"}
	for _, ip := range attackers {
		b := a.browserAt(ip)
		b.get("/login")
		for i := range accounts.MaxFailuresPerPair {
			if p := b.post("/login", url.Values{"email": {"kim@example.com"}, "password": {"guess " + strconv.Itoa(i)}}); p.Status != http.StatusUnauthorized {
				t.Fatalf("guess %d from %s: %d", i+1, ip, p.Status)
			}
		}
		// Even the right password is refused from there now.
		if p := b.post("/login", url.Values{"email": {"kim@example.com"}, "password": {testPassword}}); p.Status != http.StatusTooManyRequests {
			t.Fatalf("right password from the attacker's address: %d, want 429", p.Status)
		}
	}

	// The account has used its free failures: from a new place, every try now waits, and
	// the page says how long.
	p := signInAs(a.browserAt("203.0.113.3"), "kim@example.com", testPassword)
	msg := p.Doc.Find(`[data-testid="login-error"]`).Text()
	retry, _ := strconv.Atoi(p.Header.Get("Retry-After"))
	if p.Status != http.StatusTooManyRequests || !strings.HasPrefix(msg, "Too many failed sign-ins for this email. Wait ") || retry < 1 || retry > 30 {
		t.Errorf("from a new place during the attack: %d %q Retry-After %d", p.Status, msg, retry)
	}
	// Kim, from where she signed in before, gets in.
	if p := signInAs(a.browserAt(home), "kim@example.com", testPassword); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("kim at home during the attack: %d %q", p.Status, p.Location)
	}

	// An admin sees the limits in force on the users page.
	root := a.browserAt("198.51.100.9")
	root.signIn("root@example.com")
	page := root.get("/users")
	limits := page.Doc.Find(`[data-testid="sign-in-limit"]`)
	if limits.Length() != 3 {
		t.Fatalf("%d limits on the users page, want two addresses and the account: %s", limits.Length(), page.Doc.Find(`[data-testid="sign-in-limits"]`).Text())
	}
	for _, want := range append(attackers, "growing waits") {
		if !strings.Contains(limits.Text(), want) {
			t.Errorf("the limits do not mention %q: %s", want, limits.Text())
		}
	}
	if href := limits.First().Find("a").AttrOr("href", ""); href != "/users#user-"+strconv.FormatInt(kim.ID, 10) {
		t.Errorf("limit links to %q, want kim's row", href)
	}

	// and lifts the account's delay.
	p = root.htmx("/sign-in-limits/lift", url.Values{"kind": {"account"}, "email": {"kim@example.com"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find(`[data-testid="flash"]`).Text(), "Lifted the sign-in limit on kim@example.com") {
		t.Fatalf("lift: %d %s", p.Status, p.Body)
	}
	if n := p.Doc.Find(`[data-testid="sign-in-limit"]`).Length(); n != 0 {
		t.Errorf("%d limits left after lifting the account's (its failures are forgiven, the pairs' with them), want 0", n)
	}
	if p := root.htmx("/sign-in-limits/lift", url.Values{"kind": {"account"}, "email": {"kim@example.com"}}); p.Status != http.StatusConflict {
		t.Errorf("lifting again: %d, want 409", p.Status)
	}
	if p := signInAs(a.browserAt("203.0.113.3"), "kim@example.com", testPassword); p.Status != http.StatusSeeOther {
		t.Errorf("from a new place after the lift: %d", p.Status)
	}

	audited := countRows(t, a, `SELECT count(*) FROM audit_events WHERE record_type = 'user' AND record_id = $1 AND (
		(actor = 'system' AND action IN ('sign_in.lock', 'sign_in.delay')) OR (actor = 'root@example.com' AND action = 'sign_in.unlock'))`, kim.ID)
	if audited != 4 {
		t.Errorf("%d audit rows (two locks, one delay, one lift), want 4", audited)
	}
}

// Hostile lift requests are refused plainly.
func TestSignInLimitLiftRefusesNonsense(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("root@example.com", tally.RoleAdmin)
	b := a.browser()
	b.signIn("root@example.com")
	for _, form := range []url.Values{
		{},
		{"kind": {"everything"}, "email": {"kim@example.com"}},
		{"kind": {"pair"}, "email": {"kim@example.com"}},
		{"kind": {"address"}, "email": {"kim@example.com"}},
		{"kind": {"account"}, "ip": {"203.0.113.1"}},
		{"kind": {"account"}, "email": {strings.Repeat("x", 100_000)}},
	} {
		if p := b.htmx("/sign-in-limits/lift", form); p.Status != http.StatusBadRequest && p.Status != http.StatusConflict {
			t.Errorf("lift %v…: %d, want 400 or 409", strings.Join(form["kind"], ""), p.Status)
		}
	}
}
