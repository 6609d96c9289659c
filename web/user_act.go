package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/views"
)

func (s *Server) userSetRole(c echo.Context) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	u, err := s.accounts.SetRole(c.Request().Context(), s.actor(c), id, tally.Role(c.FormValue("role")))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.UserTableRow(s.page(c, "", ""), userRow(u)))
}

func (s *Server) userDisable(c echo.Context) error { return s.userSetDisabled(c, true) }
func (s *Server) userEnable(c echo.Context) error  { return s.userSetDisabled(c, false) }

func (s *Server) userSetDisabled(c echo.Context, disabled bool) error {
	id, err := pathID(c, "user")
	if err != nil {
		return err
	}
	if disabled && id == currentUser(c).ID {
		return tally.Errorf(tally.EINVALID, "You cannot disable your own account.")
	}
	u, err := s.accounts.SetDisabled(c.Request().Context(), s.actor(c), id, disabled)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.UserTableRow(s.page(c, "", ""), userRow(u)))
}
