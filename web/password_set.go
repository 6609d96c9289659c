package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/views"
)

// passwordSetPage opens a set-password link: the form, or why the link does not work.
func (s *Server) passwordSetPage(c echo.Context) error {
	token := c.QueryParam("token")
	u, err := s.accounts.PasswordLinkUser(c.Request().Context(), token)
	if tally.ErrorCode(err) == tally.ENOTFOUND {
		return s.renderPasswordSet(c, http.StatusNotFound, views.PasswordSetForm{Gone: true, Error: tally.ErrorMessage(err)})
	} else if err != nil {
		return err
	}
	return s.renderPasswordSet(c, http.StatusOK, views.PasswordSetForm{Token: token, Email: u.Email})
}

// passwordSet sets the password a link is for, and sends the visitor to sign in with it.
func (s *Server) passwordSet(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.PasswordSetForm{Token: c.FormValue("token"), Email: c.FormValue("email")}
	password := c.FormValue("password")
	if password != c.FormValue("repeat") {
		f.Error = "The two passwords differ. Type the same password twice."
		return s.renderPasswordSet(c, http.StatusUnprocessableEntity, f)
	}
	_, err := s.accounts.SetPasswordWithLink(ctx, f.Token, password, c.Response().Header().Get(echo.HeaderXRequestID))
	switch tally.ErrorCode(err) {
	case "":
	case tally.EINVALID:
		f.Error = tally.ErrorMessage(err)
		return s.renderPasswordSet(c, http.StatusUnprocessableEntity, f)
	case tally.ENOTFOUND:
		return s.renderPasswordSet(c, http.StatusNotFound, views.PasswordSetForm{Gone: true, Error: tally.ErrorMessage(err)})
	default:
		return err
	}
	// Whoever was signed in in this browser is not any more: the next step is signing in
	// with the new password.
	if err := s.sessions.Destroy(ctx); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login?password_set=1")
}

func (s *Server) renderPasswordSet(c echo.Context, status int, f views.PasswordSetForm) error {
	return render(c, status, views.PasswordSet(s.page(c, "Set your password", ""), f))
}
