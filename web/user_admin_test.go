package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"tally"
)

func userPath(id int64, action string) string {
	return "/users/" + strconv.FormatInt(id, 10) + "/" + action
}

func TestUsersPageRoles(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	root := a.user("root@example.com", tally.RoleAdmin)
	ada := a.user("ada@example.com", tally.RoleAdmin)
	kim := a.user("kim@example.com", tally.RoleStaff)
	b := a.browser()
	b.signIn("root@example.com")

	p := b.get("/users")
	kimRow := p.Doc.Find("#user-" + strconv.FormatInt(kim.ID, 10))
	if confirm := kimRow.Find(`[data-testid="role-form"]`).AttrOr("hx-confirm", ""); !strings.Contains(confirm, "kim@example.com") {
		t.Errorf("changing kim's role does not ask first: %q", confirm)
	}
	own := p.Doc.Find("#user-" + strconv.FormatInt(root.ID, 10))
	if own.Find("form").Length() != 0 || !strings.Contains(own.Text(), "(you)") {
		t.Errorf("the admin's own row offers actions: %s", own.Text())
	}

	t.Run("a role change swaps the row and says what happened", func(t *testing.T) {
		p := b.htmx(userPath(kim.ID, "role"), url.Values{"role": {"operator"}})
		if p.Status != http.StatusOK {
			t.Fatalf("role: %d %s", p.Status, p.Body)
		}
		if got := p.Doc.Find(`#flash[hx-swap-oob] [data-testid="flash"]`).Text(); got != "kim@example.com is now operator (was staff)." {
			t.Errorf("flash = %q", got)
		}
		if got := p.Doc.Find(`select[name="role"] option[selected]`).Text(); got != "operator" {
			t.Errorf("row shows role %q", got)
		}
		// Without htmx: a redirect to the row, and the flash on the page.
		p = b.post(userPath(kim.ID, "role"), url.Values{"role": {"engineer"}})
		if p.Status != http.StatusSeeOther || p.Location != "/users#user-"+strconv.FormatInt(kim.ID, 10) {
			t.Errorf("plain form: %d %q", p.Status, p.Location)
		}
		if got := b.get("/users").Doc.Find(`[data-testid="flash"]`).Text(); got != "kim@example.com is now engineer (was operator)." {
			t.Errorf("flash after the plain form = %q", got)
		}
	})

	t.Run("nobody demotes or disables themselves", func(t *testing.T) {
		for _, action := range []string{"role", "disable"} {
			p := b.htmx(userPath(root.ID, action), url.Values{"role": {"staff"}})
			if p.Status != http.StatusConflict || p.Header.Get("HX-Retarget") != "#flash" || !strings.Contains(p.Body, "your own") {
				t.Errorf("%s of oneself: %d %s", action, p.Status, p.Body)
			}
		}
	})

	t.Run("two admins demoting each other at once leave one admin", func(t *testing.T) {
		other := a.browser()
		other.signIn("ada@example.com")
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		wg.Go(func() { statuses[0] = b.htmx(userPath(ada.ID, "role"), url.Values{"role": {"staff"}}).Status })
		wg.Go(func() { statuses[1] = other.htmx(userPath(root.ID, "role"), url.Values{"role": {"staff"}}).Status })
		wg.Wait()
		admins := countRows(t, a, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
		if admins != 1 {
			t.Fatalf("%d admins left, statuses %v", admins, statuses)
		}
		// The demoted one's answer is a 403 (no longer an admin) or 409 (the last admin): never both 200.
		if statuses[0] == http.StatusOK && statuses[1] == http.StatusOK {
			t.Errorf("both demotions succeeded: %v", statuses)
		}
	})

	if p := b.htmx("/users/abc/role", url.Values{"role": {"staff"}}); p.Status != http.StatusBadRequest && p.Status != http.StatusForbidden {
		t.Errorf("bad id: %d", p.Status)
	}
}

func TestUsersPageSearch(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("root@example.com", tally.RoleAdmin)
	a.user("kim@example.com", tally.RoleStaff)
	a.user("lee@example.org", tally.RoleStaff)
	b := a.browser()
	b.signIn("root@example.com")

	search := func(q string, htmx bool) page {
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/users?q="+url.QueryEscape(q), nil)
		if !htmx {
			return b.do(req)
		}
		req.Header.Set("HX-Request", "true")
		p := b.do(req)
		// The answer is the table's body alone; HTML parsers (htmx's included) read it in a table.
		p.Doc, _ = goquery.NewDocumentFromReader(strings.NewReader("<table>" + p.Body + "</table>"))
		return p
	}
	p := search("KIM", true)
	rows := p.Doc.Find(`[data-testid="user-row"]`)
	if p.Status != http.StatusOK || rows.Length() != 1 || !strings.Contains(rows.Text(), "kim@example.com") || p.Doc.Find("tbody#user-rows").Length() != 1 {
		t.Errorf("htmx search: %d, %d rows: %s", p.Status, rows.Length(), p.Body)
	}
	if strings.Contains(p.Body, "<h1>") {
		t.Errorf("htmx search answered a whole page")
	}
	p = search("example.org", false)
	if rows := p.Doc.Find(`[data-testid="user-row"]`); rows.Length() != 1 || p.Doc.Find(`[data-testid="user-search"]`).AttrOr("value", "") != "example.org" {
		t.Errorf("search page: %d rows", rows.Length())
	}
	p = search("nobody", true)
	if !strings.Contains(p.Doc.Find("td.empty").Text(), "No user's email or name contains “nobody”") {
		t.Errorf("no match: %s", p.Body)
	}
	for _, q := range []string{"%", "_", "'; DROP TABLE users; --", strings.Repeat("é", 20_000)} {
		if p := search(q, true); p.Status != http.StatusOK && p.Status != http.StatusBadRequest {
			t.Errorf("search %.10q…: %d", q, p.Status)
		}
	}
}

func TestAdminSetsPassword(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("root@example.com", tally.RoleAdmin)
	kim := a.user("kim@example.com", tally.RoleStaff)
	b := a.browser()
	b.signIn("root@example.com")
	kimsLaptop := a.browser()
	kimsLaptop.signIn("kim@example.com")

	if p := b.htmx(userPath(kim.ID, "password"), url.Values{"password": {"short"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "10 to 200 characters") {
		t.Errorf("short password: %d %s", p.Status, p.Body)
	}
	if confirm := b.get("/users").Doc.Find(`#user-`+strconv.FormatInt(kim.ID, 10)+` [data-testid="set-password-form"]`).AttrOr("hx-confirm", ""); confirm == "" {
		t.Errorf("setting a password does not ask first")
	}
	p := b.htmx(userPath(kim.ID, "password"), url.Values{"password": {"a brand new password"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Doc.Find(`[data-testid="flash"]`).Text(), "Set a new password for kim@example.com") {
		t.Fatalf("set password: %d %s", p.Status, p.Body)
	}
	if p := kimsLaptop.get("/"); p.Status != http.StatusSeeOther {
		t.Errorf("kim's session outlived the new password: %d", p.Status)
	}
	if p := signInAs(a.browser(), "kim@example.com", testPassword); p.Status != http.StatusUnauthorized {
		t.Errorf("the old password still works: %d", p.Status)
	}
	if p := signInAs(a.browser(), "kim@example.com", "a brand new password"); p.Status != http.StatusSeeOther {
		t.Errorf("the new password: %d", p.Status)
	}
	if n := countRows(t, a, "SELECT count(*) FROM audit_events WHERE action = 'user.password' AND actor = 'root@example.com' AND record_id = $1", kim.ID); n != 1 {
		t.Errorf("%d audit rows for the new password, want 1", n)
	}
}

func TestSetPasswordLink(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("root@example.com", tally.RoleAdmin)
	kim := a.user("kim@example.com", tally.RoleStaff)
	b := a.browser()
	b.signIn("root@example.com")
	kimsLaptop := a.browser()
	kimsLaptop.signIn("kim@example.com")

	p := b.htmx(userPath(kim.ID, "password-link"), nil)
	link := p.Doc.Find(`[data-testid="password-link"]`).AttrOr("value", "")
	u, err := url.Parse(link)
	if p.Status != http.StatusOK || err != nil || !strings.HasPrefix(link, a.URL+"/set-password?token=") || len(u.Query().Get("token")) < 40 {
		t.Fatalf("link: %d %q", p.Status, link)
	}
	if !strings.Contains(p.Doc.Find(`[data-testid="flash"]`).Text(), "it works once") {
		t.Errorf("the link comes without saying what it is: %s", p.Body)
	}

	kim2 := a.browser() // kim, on another computer, opens the link
	form := kim2.get(u.RequestURI())
	if form.Status != http.StatusOK || form.Doc.Find(`input[name="email"]`).AttrOr("value", "") != "kim@example.com" {
		t.Fatalf("link page: %d %s", form.Status, form.Body)
	}
	token := u.Query().Get("token")
	if p := kim2.post("/set-password", url.Values{"token": {token}, "password": {"kims own password"}, "repeat": {"kims own passw0rd"}}); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Doc.Find(`[data-testid="password-set-error"]`).Text(), "differ") {
		t.Errorf("mismatched passwords: %d", p.Status)
	}
	if p := kim2.post("/set-password", url.Values{"token": {token}, "password": {"short"}, "repeat": {"short"}}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("short password: %d", p.Status)
	}
	p = kim2.post("/set-password", url.Values{"token": {token}, "password": {"kims own password"}, "repeat": {"kims own password"}})
	if p.Status != http.StatusSeeOther || p.Location != "/login?password_set=1" {
		t.Fatalf("set: %d %q", p.Status, p.Location)
	}
	if got := kim2.get(p.Location).Doc.Find(`[data-testid="flash"]`).Text(); got != "Your password is set. Sign in with it." {
		t.Errorf("flash = %q", got)
	}
	// The link dies with its use, and kim's other sessions end.
	if p := kim2.get(u.RequestURI()); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "does not work any more") {
		t.Errorf("the used link: %d", p.Status)
	}
	if p := kim2.post("/set-password", url.Values{"token": {token}, "password": {"another password!"}, "repeat": {"another password!"}}); p.Status != http.StatusNotFound {
		t.Errorf("using the link twice: %d", p.Status)
	}
	if p := kimsLaptop.get("/"); p.Status != http.StatusSeeOther {
		t.Errorf("kim's old session survived: %d", p.Status)
	}
	if p := signInAs(a.browser(), "kim@example.com", "kims own password"); p.Status != http.StatusSeeOther {
		t.Errorf("signing in with the new password: %d", p.Status)
	}
	for _, bad := range []string{"", "nope", strings.Repeat("A", 10_000), "%00"} {
		if p := a.browser().get("/set-password?token=" + bad); p.Status != http.StatusNotFound && p.Status != http.StatusBadRequest {
			t.Errorf("token %.10q: %d", bad, p.Status)
		}
	}
	n := countRows(t, a, `SELECT count(*) FROM audit_events WHERE record_type = 'user' AND record_id = $1 AND
		((action = 'user.password_link' AND actor = 'root@example.com') OR (action = 'user.password' AND actor = 'kim@example.com'))`, kim.ID)
	if n != 2 {
		t.Errorf("%d audit rows for making and using the link, want 2", n)
	}
}

// The audit log links each user record to its row on the users page, and the row is there.
func TestAuditLinksToUserRows(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("root@example.com", tally.RoleAdmin)
	b := a.browser()
	b.signIn("root@example.com")
	if p := b.post("/users", url.Values{"email": {"new@example.com"}, "role": {"staff"}, "password": {testPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("add: %d", p.Status)
	}
	href := b.get("/audit?action=user.create&actor=root@example.com").Doc.Find(`[data-testid="audit-event"] a[href^="/users#user-"]`).AttrOr("href", "")
	if href == "" {
		t.Fatal("the audit log does not link the new user")
	}
	anchor := strings.TrimPrefix(href, "/users#")
	if row := b.get("/users").Doc.Find("#" + anchor); row.Length() != 1 || !strings.Contains(row.Text(), "new@example.com") {
		t.Errorf("the users page has no row %q for new@example.com", anchor)
	}
}
