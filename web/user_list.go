package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/accounts"
	"tally/views"
)

// userList is the users page; an htmx search (not a history restore, which needs the whole
// page) gets only the table's rows.
func (s *Server) userList(c echo.Context) error {
	search := strings.TrimSpace(c.QueryParam("q"))
	if isHTMX(c) && c.Request().Header.Get("HX-History-Restore-Request") != "true" {
		rows, err := s.userRows(c, search)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.UserRows(s.page(c, "", ""), rows, search))
	}
	return s.renderUsers(c, http.StatusOK, search, views.UserForm{Role: string(tally.RoleStaff)})
}

func (s *Server) renderUsers(c echo.Context, status int, search string, f views.UserForm) error {
	rows, err := s.userRows(c, search)
	if err != nil {
		return err
	}
	limits, err := s.signInLimitRows(c)
	if err != nil {
		return err
	}
	return render(c, status, views.Users(s.page(c, "Users", "users"), views.UsersPage{Users: rows, Search: search, Limits: limits, Form: f}))
}

func (s *Server) userRows(c echo.Context, search string) ([]views.UserRow, error) {
	users, err := s.accounts.List(c.Request().Context(), search)
	if err != nil {
		return nil, err
	}
	rows := make([]views.UserRow, len(users))
	for i, u := range users {
		rows[i] = userRow(u)
	}
	return rows, nil
}

func (s *Server) signInLimitRows(c echo.Context) ([]views.SignInLimitRow, error) {
	limits, err := s.accounts.Limits(c.Request().Context())
	if err != nil {
		return nil, err
	}
	rows := make([]views.SignInLimitRow, len(limits))
	for i, l := range limits {
		r := views.SignInLimitRow{Kind: string(l.Kind), Email: l.Email, Address: l.Address, UserID: l.UserID,
			Failures: l.Failures, Until: l.Until.UTC().Format(time.DateTime) + " UTC"}
		switch l.Kind {
		case accounts.LimitPair:
			r.What = "this email from this address"
		case accounts.LimitAddress:
			r.What = "every sign-in from this address"
		case accounts.LimitAccount:
			r.What = "this email from new places: growing waits"
			r.Until = "next try from " + r.Until
		}
		rows[i] = r
	}
	return rows, nil
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
		return s.renderUsers(c, http.StatusUnprocessableEntity, "", f)
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
