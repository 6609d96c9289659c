package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"tally"
	"tally/accounts"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("kim@example.com", tally.RoleStaff)

	t.Run("good password reaches the dashboard", func(t *testing.T) {
		b := a.browser()
		b.signIn("kim@example.com")
		p := b.get("/")
		if p.Status != http.StatusOK || p.Doc.Find("h1").Text() != "Dashboard" {
			t.Fatalf("dashboard: %d %q", p.Status, p.Doc.Find("h1").Text())
		}
		if who := p.Doc.Find(`[data-testid="whoami"]`).Text(); !strings.Contains(who, "kim@example.com") {
			t.Errorf("whoami = %q", who)
		}
		if got := p.Doc.Find(`[data-testid="users-staff"] .card-value`).Text(); got != "1" {
			t.Errorf("staff accounts on the dashboard = %q, want 1", got)
		}
	})

	t.Run("wrong password and unknown user get the same message and no session", func(t *testing.T) {
		var messages []string
		for _, email := range []string{"kim@example.com", "nobody@example.com"} {
			b := a.browser()
			b.get("/login")
			p := b.post("/login", url.Values{"email": {email}, "password": {"wrong password"}})
			if p.Status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", email, p.Status)
			}
			messages = append(messages, p.Doc.Find(`[data-testid="login-error"]`).Text())
			if p := b.get("/"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
				t.Errorf("%s: after a failed sign-in / gave %d %q, want a redirect to sign in", email, p.Status, p.Location)
			}
		}
		if messages[0] == "" || messages[0] != messages[1] {
			t.Errorf("messages differ or are empty: %q", messages)
		}
	})

	t.Run("garbage in the sign-in form is refused plainly", func(t *testing.T) {
		b := a.browser()
		b.get("/login")
		for _, email := range []string{"\xff\xfe@example.com", "kim\x00@example.com", strings.Repeat("a", 5000) + "@example.com"} {
			if p := b.post("/login", url.Values{"email": {email}, "password": {"x"}}); p.Status != http.StatusBadRequest && p.Status != http.StatusUnauthorized {
				t.Errorf("email %q…: status %d", email[:10], p.Status)
			}
		}
	})

	t.Run("a page without a session redirects to sign-in", func(t *testing.T) {
		p := a.browser().get("/users?x=1")
		if p.Status != http.StatusSeeOther || p.Location != "/login?next="+url.QueryEscape("/users?x=1") {
			t.Errorf("got %d %q", p.Status, p.Location)
		}
	})

	t.Run("sign-out ends the session", func(t *testing.T) {
		b := a.browser()
		b.signIn("kim@example.com")
		if p := b.post("/logout", nil); p.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", p.Status)
		}
		if p := b.get("/"); p.Status != http.StatusSeeOther {
			t.Errorf("after sign-out / gave %d, want a redirect", p.Status)
		}
	})

	t.Run("the session cookie is HttpOnly and SameSite, and renewed at sign-in", func(t *testing.T) {
		b := a.browser()
		first := b.get("/login").Header.Get("Set-Cookie")
		b.post("/login", url.Values{"email": {"kim@example.com"}, "password": {testPassword}})
		u, _ := url.Parse(a.URL)
		var after string
		for _, c := range b.http.Jar.Cookies(u) {
			if c.Name == "tally_session" {
				after = c.Value
			}
		}
		if !strings.Contains(first, "HttpOnly") || !strings.Contains(first, "SameSite=Lax") {
			t.Errorf("cookie flags: %s", first)
		}
		if after == "" || strings.Contains(first, "tally_session="+after) {
			t.Errorf("session token was not renewed at sign-in")
		}
	})
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("root@example.com", tally.RoleAdmin)
	b := a.browser()
	b.signIn("root@example.com")

	form := url.Values{"email": {"new@example.com"}, "role": {"staff"}, "password": {testPassword}}
	for name, token := range map[string]string{"missing": "", "wrong": "not-the-token"} {
		form.Set("_csrf", token)
		if p := b.post("/users", form); p.Status != http.StatusForbidden {
			t.Errorf("%s token: status %d, want 403", name, p.Status)
		}
	}
	// A sign-in form posted from elsewhere has no token either.
	if p := a.browser().post("/login", url.Values{"email": {"root@example.com"}, "password": {testPassword}}); p.Status != http.StatusForbidden {
		t.Errorf("login without token: status %d, want 403", p.Status)
	}
	users, _ := accounts.NewService(a.Pool, false).List(context.Background(), "")
	if len(users) != 1 {
		t.Errorf("%d users after refused requests, want 1", len(users))
	}
	form.Del("_csrf")
	if p := b.post("/users", form); p.Status != http.StatusSeeOther {
		t.Errorf("with the token: status %d, want 303", p.Status)
	}
}

func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("kim@example.com", tally.RoleStaff)

	t.Run("per account and address", func(t *testing.T) {
		b := a.browser()
		b.get("/login")
		for i := 0; i < accounts.MaxFailuresPerPair; i++ {
			if p := b.post("/login", url.Values{"email": {"kim@example.com"}, "password": {"wrong"}}); p.Status != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d", i+1, p.Status)
			}
		}
		// Now even the right password is refused from this address, and the page says for how long.
		p := b.post("/login", url.Values{"email": {"kim@example.com"}, "password": {testPassword}})
		msg := p.Doc.Find(`[data-testid="login-error"]`).Text()
		if p.Status != http.StatusTooManyRequests || msg != "Too many failed sign-ins for this email from your network. Try again in 15 minutes." {
			t.Errorf("status %d %q, want 429 with a message", p.Status, msg)
		}
		if retry, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || retry < 14*60 || retry > 15*60 {
			t.Errorf("Retry-After = %q, want about 15 minutes", p.Header.Get("Retry-After"))
		}
		if p.Doc.Find(`input[name="email"]`).AttrOr("value", "") != "kim@example.com" {
			t.Errorf("the form forgot the email")
		}
	})

	t.Run("per address", func(t *testing.T) {
		b := a.browser()
		b.get("/login")
		var last int
		for i := 0; i <= accounts.MaxFailuresPerAddress; i++ {
			last = b.post("/login", url.Values{"email": {"guess" + string(rune('a'+i)) + "@example.com"}, "password": {"x"}}).Status
		}
		if last != http.StatusTooManyRequests {
			t.Errorf("status %d after %d failures from one address, want 429", last, accounts.MaxFailuresPerAddress+1)
		}
	})
}

func TestRoles(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("root@example.com", tally.RoleAdmin)
	op := a.user("op@example.com", tally.RoleOperator)
	b := a.browser()
	b.signIn("op@example.com")

	p := b.post("/users", url.Values{"email": {"sneaky@example.com"}, "role": {"admin"}, "password": {testPassword}})
	if p.Status != http.StatusForbidden || p.Doc.Find(`[data-testid="error-page"]`).Length() != 1 {
		t.Errorf("operator adding a user: status %d, want the 403 page", p.Status)
	}
	p = b.htmx("/users/"+strconv.FormatInt(op.ID, 10)+"/role", url.Values{"role": {"admin"}})
	if p.Status != http.StatusForbidden || p.Header.Get("HX-Retarget") != "#flash" {
		t.Errorf("operator promoting itself over htmx: %d %q", p.Status, p.Header.Get("HX-Retarget"))
	}
	users, _ := accounts.NewService(a.Pool, false).List(context.Background(), "")
	for _, u := range users {
		if u.Email == "sneaky@example.com" || (u.Email == "op@example.com" && u.Role != "operator") {
			t.Errorf("a refused request changed something: %+v", u)
		}
	}
}

func TestAdminManagesUsers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("root@example.com", tally.RoleAdmin)
	b := a.browser()
	b.signIn("root@example.com")

	p := b.post("/users", url.Values{"email": {"bad"}, "role": {"staff"}, "password": {testPassword}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "valid email") {
		t.Errorf("bad email: %d", p.Status)
	}
	if p := b.post("/users", url.Values{"email": {"Lee@Example.com"}, "role": {"staff"}, "password": {testPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("add: %d", p.Status)
	}
	p = b.get("/users")
	if got := p.Doc.Find(`[data-testid="flash"]`).Text(); got != "Added lee@example.com as staff." {
		t.Errorf("flash = %q", got)
	}
	lee := a.browser()
	lee.signIn("lee@example.com")

	var id string
	p.Doc.Find(`[data-testid="user-row"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if strings.Contains(s.Text(), "lee@example.com") {
			id = strings.TrimPrefix(s.AttrOr("id", ""), "user-")
			return false
		}
		return true
	})
	if p := b.htmx("/users/"+id+"/disable", nil); p.Status != http.StatusOK || !strings.Contains(p.Body, "disabled") {
		t.Fatalf("disable: %d %s", p.Status, p.Body)
	}
	// A disabled user's open session ends at its next request.
	if p := lee.get("/"); p.Status != http.StatusSeeOther {
		t.Errorf("disabled user still served: %d", p.Status)
	}
	var audited int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE record_type = 'user'
		AND actor = 'root@example.com' AND action IN ('user.create', 'user.disable')`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if audited != 2 {
		t.Errorf("%d audit rows for adding and disabling a user, want 2", audited)
	}
	if p := b.htmx("/users/abc/disable", nil); p.Status != http.StatusBadRequest {
		t.Errorf("bad id: %d", p.Status)
	}
}
