package web

import (
	"net/http"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
)

// sessionSeen is when the session was last written for its idle timeout (Unix seconds).
const sessionSeen = "seen"

// newSessions returns the session manager: server-side sessions in Postgres that end
// cfg.SessionIdle after their last use, and cfg.SessionLifetime after sign-in whatever.
//
// scs's own idle timeout writes the session back on every request, GETs included, to move
// its expiry: a write per page view, a fifth of an approve's time. Here the expiry moves
// when the session is written (idleStore), and keepSession writes an unchanged session at
// most once per sessionRefresh. A session therefore ends between SessionIdle minus
// sessionRefresh and SessionIdle after its last use: never later than the idle timeout.
func newSessions(pool *pgxpool.Pool, cfg Config) *scs.SessionManager {
	sm := scs.New()
	// Expired sessions are purged by a River periodic job, not by a goroutine per process.
	sm.Store = idleStore{Store: pgxstore.NewWithCleanupInterval(pool, 0), idle: cfg.SessionIdle}
	sm.Lifetime = cfg.SessionLifetime
	sm.Cookie.Name = "tally_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	return sm
}

// sessionRefresh is how often a session in use is written back to move its idle expiry:
// a minute, or less for an idle timeout of a few minutes.
func sessionRefresh(idle time.Duration) time.Duration { return min(time.Minute, idle/4) }

// idleStore keeps sessions in store until idle after they were last written, or until
// their absolute deadline (the expiry scs asks for) if that comes first. Find, in the store,
// no longer finds a session past its expiry: that is the idle timeout.
type idleStore struct {
	scs.Store
	idle time.Duration
}

// Commit saves the session until idle from now, at most until expiry.
func (s idleStore) Commit(token string, b []byte, expiry time.Time) error {
	if until := time.Now().Add(s.idle); until.Before(expiry) {
		expiry = until
	}
	return s.Store.Commit(token, b, expiry)
}

// keepSession marks a session in use for writing when it was last written more than
// sessionRefresh ago, which moves its idle expiry. Other requests leave the session as it
// is unless they change it: no write.
//
// Their answer still carries the session's cookie, unchanged, as it did when every request
// wrote the session: Chrome keeps a no-store page in its back-forward cache unless a cookie
// was set since, and Back must show a signed-in page as it is now, not as it was.
func (s *Server) keepSession(next echo.HandlerFunc) echo.HandlerFunc {
	refresh := sessionRefresh(s.cfg.SessionIdle)
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		now := time.Now()
		if seen := s.sessions.GetInt64(ctx, sessionSeen); now.Sub(time.Unix(seen, 0)) >= refresh {
			s.sessions.Put(ctx, sessionSeen, now.Unix())
		} else if token := s.sessions.Token(ctx); token != "" {
			s.sessions.WriteSessionCookie(ctx, c.Response(), token, s.sessions.Deadline(ctx))
		}
		return next(c)
	}
}
