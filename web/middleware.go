package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/views"
)

// Session keys.
const (
	sessionUserID    = "user_id"
	sessionCSRF      = "csrf"
	sessionFlashKind = "flash_kind"
	sessionFlashText = "flash_text"
)

// Context keys.
const (
	ctxUser    = "tally.user"
	ctxSession = "tally.session" // set once the session is loaded
)

// logRequests logs every request and times it for /metrics, by its route's template.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // write the response now, so the status below is the real one
		}
		req, res := c.Request(), c.Response()
		took := time.Since(start)
		route := s.route(c)
		s.metrics.Request(route, s.method(c, route), res.Status, took)
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		attrs := []any{
			"request_id", res.Header().Get(echo.HeaderXRequestID),
			"method", req.Method, "path", req.URL.Path, "status", res.Status,
			"took", took.Round(time.Microsecond), "ip", c.RealIP(),
		}
		if u, ok := c.Get(ctxUser).(*views.SignedIn); ok {
			attrs = append(attrs, "user", u.Email)
		}
		s.log.Log(req.Context(), level, "request", attrs...)
		return nil
	}
}

// contentSecurityPolicy allows scripts and styles from Tally's own origin only: no inline
// script, no eval, no inline style.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// validText refuses a request whose query, form or headers hold text PostgreSQL cannot store
// (invalid UTF-8, NUL bytes), before any handler sees it: a clear 400, never a 500. Headers
// count too: the session cookie and the Idempotency-Key reach the database.
func validText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		for _, values := range req.Header {
			if !allText(values) {
				return tally.Errorf(tally.EINVALID, "The request has a header that is not text.")
			}
		}
		if err := req.ParseForm(); err != nil {
			return tally.Errorf(tally.EINVALID, "The request could not be read.")
		}
		for _, values := range req.Form { // the query and a urlencoded body
			if !allText(values) {
				return tally.Errorf(tally.EINVALID, "The request holds characters that are not text. Check what you typed or pasted.")
			}
		}
		return next(c)
	}
}

func allText(values []string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return false
		}
	}
	return true
}

// headAsGet answers HEAD as GET without its body (monitors and link checkers send HEAD).
// The handler sees a GET; net/http still knows the request was a HEAD and sends no body.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if req := c.Request(); req.Method == http.MethodHead {
			get := *req
			get.Method = http.MethodGet
			c.SetRequest(&get)
		}
		return next(c)
	}
}

// requestID gives every request an id of Tally's own, sent back as X-Request-Id and written
// to the log and the audit trail. A client's X-Request-Id is ignored: taken as it came, any
// client could write what it liked into the audit log.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		b := make([]byte, 12)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		c.Response().Header().Set(echo.HeaderXRequestID, hex.EncodeToString(b))
		return next(c)
	}
}

// csrf keeps a random token in the session and requires it on every state-changing
// request, as the X-CSRF-Token header (htmx, from hx-headers on <body>) or the _csrf form
// field (plain forms). A missing or wrong token is a 403 and the handler never runs.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(ctxSession, true)
		ctx := c.Request().Context()
		token := s.sessions.GetString(ctx, sessionCSRF)
		if token == "" {
			token = newToken()
			s.sessions.Put(ctx, sessionCSRF, token)
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		// The header (htmx) or the form body (plain forms); never the query string, whose
		// token would leak through logs and the Referer header.
		sent := c.Request().Header.Get("X-CSRF-Token")
		if sent == "" {
			sent = c.Request().PostFormValue("_csrf")
		}
		if subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			if s.sessions.GetInt64(ctx, sessionUserID) == 0 && c.Request().URL.Path != "/login" {
				// Most often the session ended (signed out in another tab, idle too long) and
				// its token with it: say so, and send htmx to sign in again.
				c.Response().Header().Set("HX-Redirect", "/login")
				return tally.Errorf(tally.EFORBIDDEN, "You are signed out, so this was not done. Sign in and try again.")
			}
			return tally.Errorf(tally.EFORBIDDEN, "This form has expired or did not come from Tally. Reload the page and try again.")
		}
		return next(c)
	}
}

// requireUser lets signed-in, enabled users through and sends everyone else to sign in.
// It reads the user on every request, so a role change or a disabled account counts at once.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id := s.sessions.GetInt64(ctx, sessionUserID)
		if id != 0 {
			u, err := s.accounts.Get(ctx, id)
			switch {
			case err == nil && u.DisabledAt == nil && (!u.Demo || s.cfg.Demo):
				c.Set(ctxUser, &views.SignedIn{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role})
				return next(c)
			case err != nil && tally.ErrorCode(err) != tally.ENOTFOUND:
				return err
			}
			if err := s.sessions.Destroy(ctx); err != nil {
				return err
			}
		}
		loginURL := "/login"
		if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/" {
			loginURL += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		if c.Request().Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", loginURL)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, loginURL)
	}
}

// requireRole refuses users whose role does not allow need; admin passes everywhere.
func requireRole(need tally.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if u := currentUser(c); !u.Can(need) {
				return tally.Errorf(tally.EFORBIDDEN, "This needs the %s role; you are signed in as %s.", need, u.Role)
			}
			return next(c)
		}
	}
}

func currentUser(c echo.Context) *views.SignedIn {
	u, _ := c.Get(ctxUser).(*views.SignedIn)
	return u
}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed"))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
