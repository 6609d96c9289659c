package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/accounts"
	"tally/views"
)

func (s *Server) userList(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, views.UserForm{Role: string(tally.RoleStaff)})
}

func (s *Server) renderUsers(c echo.Context, status int, f views.UserForm) error {
	users, err := s.accounts.List(c.Request().Context())
	if err != nil {
		return err
	}
	rows := make([]views.UserRow, len(users))
	for i, u := range users {
		rows[i] = userRow(u)
	}
	return render(c, status, views.Users(s.page(c, "Users", "users"), rows, f))
}

func (s *Server) userCreate(c echo.Context) error {
	nu := accounts.NewUser{
		Email:    c.FormValue("email"),
		Name:     c.FormValue("name"),
		Role:     tally.Role(c.FormValue("role")),
		Password: c.FormValue("password"),
	}
	u, err := s.accounts.Create(c.Request().Context(), s.actor(c), nu)
	if code := tally.ErrorCode(err); code == tally.EINVALID || code == tally.ECONFLICT {
		f := views.UserForm{Email: nu.Email, Name: nu.Name, Role: string(nu.Role), Error: tally.ErrorMessage(err)}
		return s.renderUsers(c, http.StatusUnprocessableEntity, f)
	} else if err != nil {
		return err
	}
	s.flash(c, "ok", "Added "+u.Email+" as "+string(u.Role)+".")
	return c.Redirect(http.StatusSeeOther, "/users")
}

func userRow(u accounts.User) views.UserRow {
	return views.UserRow{
		ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Demo: u.Demo,
		Disabled: u.DisabledAt != nil, Created: u.CreatedAt.Format("2006-01-02"),
	}
}
