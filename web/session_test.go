package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/reservations"
	"tally/web"
)

// appWith is newApp with the web server configured by cfg.
func appWith(t *testing.T, cfg web.Config) *app {
	t.Helper()
	pool := testdb.New(t)
	inserter := fixture.Inserter(t, pool)
	svc := reservations.NewService(pool, inserter, reservations.Config{})
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(web.New(cfg, pool, svc, inserter))
	t.Cleanup(srv.Close)
	return &app{t: t, URL: srv.URL, Pool: pool, Service: svc, Jobs: inserter}
}

// storedSession is the browser's session as the sessions table holds it.
func (b *browser) storedSession() (data []byte, expiry time.Time) {
	b.t.Helper()
	u, _ := url.Parse(b.app.URL)
	var token string
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == "tally_session" {
			token = c.Value
		}
	}
	if token == "" {
		b.t.Fatal("no session cookie")
	}
	err := b.app.Pool.QueryRow(context.Background(), "SELECT data, expiry FROM sessions WHERE token = $1", token).Scan(&data, &expiry)
	if err != nil {
		b.t.Fatalf("the session in the database: %v", err)
	}
	return data, expiry
}

// Reading pages does not write the session: its row stays as it was, expiry included, until
// it is a minute old. It still ends 30 minutes after it was last written, not at the end of
// its 12 hours.
func TestSessionIsNotWrittenByEveryRequest(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("kim@example.com", tally.RoleStaff)
	b := a.browser()
	b.signIn("kim@example.com")

	data, expiry := b.storedSession()
	if until := time.Until(expiry); until < 25*time.Minute || until > 31*time.Minute {
		t.Errorf("a session in use expires in %s; want the idle timeout, 30 minutes", until.Round(time.Second))
	}
	for _, path := range []string{"/", "/reservations", "/dashboard/numbers", "/audit", "/"} {
		if p := b.get(path); p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, p.Status)
		}
		again, moved := b.storedSession()
		if !moved.Equal(expiry) || !bytes.Equal(again, data) {
			t.Fatalf("GET %s wrote the session (expiry %s, then %s)", path, expiry, moved)
		}
	}
	// An action still works on the unwritten session: its CSRF token is the one stored.
	n := reservationFor(t, a)
	p := b.post("/reservations", url.Values{"slot_id": {fmt.Sprint(n.SlotID)}, "customer_id": {fmt.Sprint(n.CustomerID)},
		"seats": {"1"}, "idempotency_key": {"reserve-" + fixture.Unique() + "-key"}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/reservations/") {
		t.Fatalf("reserve on an unwritten session: %d %q", p.Status, p.Location)
	}

	// Thirty minutes without a write: the session has ended.
	if _, err := a.Pool.Exec(context.Background(), "UPDATE sessions SET expiry = expiry - interval '30 minutes'"); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/reservations"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Errorf("after 30 idle minutes: %d %q, want sent to sign in", p.Status, p.Location)
	}
}

// A session in use is written again once its last write is older than the refresh interval
// (a minute; a quarter of a short idle timeout), which moves its end; and it never outlives
// its lifetime.
func TestSessionInUseIsKept(t *testing.T) {
	t.Parallel()
	a := appWith(t, web.Config{SessionIdle: 20 * time.Second, SessionLifetime: time.Hour})
	a.user("kim@example.com", tally.RoleStaff)
	b := a.browser()
	b.signIn("kim@example.com")
	_, first := b.storedSession()
	time.Sleep(5 * time.Second) // the refresh interval of a 20-second idle timeout
	if p := b.get("/"); p.Status != http.StatusOK {
		t.Fatalf("GET /: %d", p.Status)
	}
	if _, later := b.storedSession(); !later.After(first) {
		t.Errorf("a session used after the refresh interval still expires at %s, as it did before", later)
	}

	short := appWith(t, web.Config{SessionLifetime: 10 * time.Second})
	short.user("kim@example.com", tally.RoleStaff)
	sb := short.browser()
	sb.signIn("kim@example.com")
	if _, expiry := sb.storedSession(); time.Until(expiry) > 10*time.Second {
		t.Errorf("a session with a 10-second lifetime expires in %s", time.Until(expiry).Round(time.Second))
	}
}
