package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"tally"
	"tally/accounts"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
	"tally/reservations"
	"tally/web"
)

const testPassword = fixture.Password

// app is a running Tally web server on its own database.
type app struct {
	t       *testing.T
	URL     string
	Pool    *pgxpool.Pool
	Service *reservations.Service
	Jobs    *jobs.Client
}

func newApp(t *testing.T) *app {
	t.Helper()
	return startApp(t, false)
}

// newAppWithWorkers is newApp with River workers running against the partner simulator.
func newAppWithWorkers(t *testing.T) *app {
	t.Helper()
	return startApp(t, true)
}

func startApp(t *testing.T, work bool) *app {
	pool := testdb.New(t)
	inserter := fixture.Inserter(t, pool)
	svc := reservations.NewService(pool, inserter, reservations.Config{})
	if work {
		_, partner := fixture.Partner(t)
		fixture.Workers(t, pool, svc, partner)
	}
	srv := httptest.NewServer(web.New(web.Config{Logger: slog.New(slog.DiscardHandler)}, pool, svc, inserter))
	t.Cleanup(srv.Close)
	return &app{t: t, URL: srv.URL, Pool: pool, Service: svc, Jobs: inserter}
}

// user creates an account with role and testPassword.
func (a *app) user(email string, role tally.Role) accounts.User {
	a.t.Helper()
	return fixture.User(a.t, a.Pool, email, role)
}

// browser is one visitor: a cookie jar, redirects not followed so tests see them.
type browser struct {
	t    *testing.T
	app  *app
	http *http.Client
	mu   sync.Mutex // tests send requests from many goroutines
	csrf string
}

func (a *app) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: a.t, app: a, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response with its body read and parsed.
type page struct {
	Status   int
	Header   http.Header
	Body     string
	Doc      *goquery.Document
	Location string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(body), Doc: doc, Location: res.Header.Get("Location")}
	// Keep the latest CSRF token the server handed out, as a browser keeps the page.
	if tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok && tok != "" {
		b.mu.Lock()
		b.csrf = tok
		b.mu.Unlock()
	}
	return p
}

func (b *browser) token() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.csrf
}

func (b *browser) get(path string) page {
	req, _ := http.NewRequest(http.MethodGet, b.app.URL+path, nil)
	return b.do(req)
}

// post sends a form with the CSRF token the last page carried (unless form sets _csrf).
func (b *browser) post(path string, form url.Values) page {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", b.token())
	}
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// htmx sends a form the way htmx does: token in the header, HX-Request set.
func (b *browser) htmx(path string, form url.Values) page {
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", b.token())
	return b.do(req)
}

// signIn signs in and fails the test unless it lands on the dashboard.
func (b *browser) signIn(email string) {
	b.t.Helper()
	b.get("/login")
	p := b.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if p.Status != http.StatusSeeOther || p.Location != "/" {
		b.t.Fatalf("sign in as %s: %d %q", email, p.Status, p.Location)
	}
	b.get("/") // pick up the new CSRF token
}
