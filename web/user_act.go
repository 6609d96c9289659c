package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/accounts"
	"tally/views"
)

// The admin's actions on one user. Each answers htmx with the user's row as it now is and
// the outcome in #flash, and a plain form with the outcome as a flash on the users page.

func (s *Server) userSetRole(c echo.Context) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	rc, err := s.accounts.SetRole(c.Request().Context(), s.actor(c), id, tally.Role(c.FormValue("role")))
	if err != nil {
		return err
	}
	msg := rc.Email + " is now " + string(rc.Role) + " (was " + string(rc.From) + ")."
	if rc.From == rc.Role {
		msg = rc.Email + " is already " + string(rc.Role) + "."
	}
	return s.userOutcome(c, rc.User, msg)
}

func (s *Server) userDisable(c echo.Context) error { return s.userSetDisabled(c, true) }
func (s *Server) userEnable(c echo.Context) error  { return s.userSetDisabled(c, false) }

func (s *Server) userSetDisabled(c echo.Context, disabled bool) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	u, err := s.accounts.SetDisabled(c.Request().Context(), s.actor(c), id, disabled)
	if err != nil {
		return err
	}
	msg := "Enabled " + u.Email + "; they can sign in again."
	if disabled {
		msg = "Disabled " + u.Email + "; they are signed out and cannot sign in."
	}
	return s.userOutcome(c, u, msg)
}

func (s *Server) userSetPassword(c echo.Context) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	u, err := s.accounts.SetPassword(c.Request().Context(), s.actor(c), id, c.FormValue("password"))
	if err != nil {
		return err
	}
	return s.userOutcome(c, u, "Set a new password for "+u.Email+"; they are signed out everywhere. Tell them the password in person, not by email.")
}

func (s *Server) userPasswordLink(c echo.Context) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	link, err := s.accounts.CreatePasswordLink(c.Request().Context(), s.actor(c), id)
	if err != nil {
		return err
	}
	v := views.PasswordLinkView{
		Email:   link.User.Email,
		URL:     c.Scheme() + "://" + c.Request().Host + "/set-password?token=" + link.Token,
		Expires: link.ExpiresAt.UTC().Format(time.DateTime) + " UTC",
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.UserRowWithLink(s.page(c, "", ""), userRow(link.User), v))
	}
	s.flash(c, "ok", "Pass this link to "+v.Email+" yourself; it works once, until "+v.Expires+", and sets a new password: "+v.URL)
	return c.Redirect(http.StatusSeeOther, "/users#user-"+strconv.FormatInt(link.User.ID, 10))
}

// userOutcome answers an action on u that went as msg says.
func (s *Server) userOutcome(c echo.Context, u accounts.User, msg string) error {
	if isHTMX(c) {
		return render(c, http.StatusOK, views.UserRowWithFlash(s.page(c, "", ""), userRow(u), views.Flash{Kind: "ok", Message: msg}))
	}
	s.flash(c, "ok", msg)
	return c.Redirect(http.StatusSeeOther, "/users#user-"+strconv.FormatInt(u.ID, 10))
}

// signInLimitLift lifts one sign-in limit; htmx gets the limits as they now are.
func (s *Server) signInLimitLift(c echo.Context) error {
	kind := accounts.LimitKind(c.FormValue("kind"))
	email, ip := c.FormValue("email"), c.FormValue("ip")
	n, err := s.accounts.LiftLimit(c.Request().Context(), s.actor(c), kind, email, ip)
	if err != nil {
		return err
	}
	what := map[accounts.LimitKind]string{accounts.LimitPair: email + " from " + ip, accounts.LimitAddress: ip, accounts.LimitAccount: email}[kind]
	msg := "Lifted the sign-in limit on " + what + " (" + strconv.FormatInt(n, 10) + " failures forgiven)."
	if isHTMX(c) {
		limits, err := s.signInLimitRows(c)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.SignInLimitsWithFlash(s.page(c, "", ""), limits, views.Flash{Kind: "ok", Message: msg}))
	}
	s.flash(c, "ok", msg)
	return c.Redirect(http.StatusSeeOther, "/users#sign-in-limits")
}
