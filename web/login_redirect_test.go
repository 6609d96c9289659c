package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"tally"
)

// After signing in, next never leads off the site, however it is dressed up.
func TestSignInRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("kim@example.com", tally.RoleStaff)
	signedIn := a.browser()
	signedIn.signIn("kim@example.com")

	for next, want := range map[string]string{
		"/\t/evil.example/":         "/",
		"/\n/evil.example/":         "/",
		"/\r\n/evil.example/":       "/",
		"//evil.example/":           "/",
		"/\\evil.example/":          "/",
		"\\\\evil.example/":         "/",
		"/%2F%2Fevil.example/":      "/",
		"/%2F/evil.example/":        "/",
		"/%5Cevil.example/":         "/",
		"/%09/evil.example/":        "/",
		"https://evil.example/":     "/",
		"javascript:alert(1)":       "/",
		"evil.example":              "/",
		"/\u0085/evil.example":      "/",
		"/reservations?status=held": "/reservations?status=held",
		"/reservations/7":           "/reservations/7",
	} {
		// Signed in already: the sign-in page sends the visitor on at once.
		p := signedIn.get("/login?next=" + url.QueryEscape(next))
		if p.Status != http.StatusSeeOther || p.Location != want {
			t.Errorf("GET /login?next=%q signed in: %d %q, want 303 %q", next, p.Status, p.Location, want)
		}
		// Signing in through the form, with next in it.
		b := a.browser()
		form := b.get("/login?next=" + url.QueryEscape(next))
		if got := form.Doc.Find(`input[name="next"]`).AttrOr("value", ""); got != want {
			t.Errorf("the form carries next %q, want %q", got, want)
		}
		p = b.post("/login", url.Values{"email": {"kim@example.com"}, "password": {testPassword}, "next": {next}})
		if p.Status != http.StatusSeeOther || p.Location != want {
			t.Errorf("POST /login next=%q: %d %q, want 303 %q", next, p.Status, p.Location, want)
		}
	}
}
