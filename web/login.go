package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/accounts"
	"tally/views"
)

func (s *Server) loginPage(c echo.Context) error {
	if s.sessions.GetInt64(c.Request().Context(), sessionUserID) != 0 {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	p := s.page(c, "Sign in", "")
	if p.Flash.Message == "" {
		switch {
		case c.QueryParam("signed_out") != "":
			p.Flash = views.Flash{Kind: "info", Message: "You are signed out."}
		case c.QueryParam("password_set") != "":
			p.Flash = views.Flash{Kind: "ok", Message: "Your password is set. Sign in with it."}
		}
	}
	return render(c, http.StatusOK, views.Login(p, s.loginForm(c.QueryParam("next"))))
}

func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	email, password := c.FormValue("email"), c.FormValue("password")
	user, err := s.accounts.Authenticate(ctx, email, password, c.RealIP())
	var limited *accounts.LimitError
	if errors.As(err, &limited) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(limited.RetryAfter.Seconds()))))
	}
	if code := tally.ErrorCode(err); code == tally.EUNAUTHORIZED || code == tally.ETOOMANY || code == tally.EINVALID {
		f := s.loginForm(c.FormValue("next"))
		f.Email, f.Error = strings.TrimSpace(email), tally.ErrorMessage(err)
		return render(c, errorStatus(code), views.Login(s.page(c, "Sign in", ""), f))
	} else if err != nil {
		return err
	}
	// A new session token at sign-in (no fixation) and a new CSRF token with it.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionUserID, user.ID)
	s.sessions.Put(ctx, sessionCSRF, newToken())
	// Remember whose session this is, so that a new password or disabling the account can end it.
	if err := s.accounts.TrackSession(ctx, user.ID, s.sessions.Token(ctx)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

func (s *Server) logout(c echo.Context) error {
	if err := s.sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login?signed_out=1")
}

func (s *Server) loginForm(next string) views.LoginForm {
	f := views.LoginForm{Next: safeNext(next)}
	if s.cfg.Demo {
		f.DemoPassword = accounts.DemoPassword
		for _, a := range accounts.DemoAccounts {
			f.DemoAccounts = append(f.DemoAccounts, views.DemoAccount{Email: a.Email, Role: string(a.Role)})
		}
	}
	return f
}

// safeNext keeps redirects after sign-in on this site: next if it is a path here, else the
// dashboard. Browsers are lenient with what follows the first "/" (they drop tabs and
// newlines, read "\\" as "/", and "//host" is another site), so anything that could read as
// another host, raw or once decoded, is refused: control characters, backslashes, a second
// "/" at the start, a scheme, a host.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || !utf8.ValidString(next) || hasUnsafe(next) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	query, err := url.QueryUnescape(u.RawQuery)
	if err != nil || hasUnsafe(query) || !strings.HasPrefix(u.Path, "/") || hasUnsafe(u.Path) ||
		strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	// Rebuilt from its parts: the fragment is dropped, and what is left is escaped as Go
	// would send it.
	return u.RequestURI()
}

// hasUnsafe reports whether s holds a character no redirect target here needs and a browser
// may read as part of another address: a control character or a backslash.
func hasUnsafe(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\\' || r == utf8.RuneError })
}
