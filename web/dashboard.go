package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tally/accounts"
	"tally/views"
)

func (s *Server) dashboard(c echo.Context) error {
	stats, err := s.dashboardStats(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Dashboard(s.page(c, "Dashboard", "dashboard"), stats))
}

func (s *Server) dashboardNumbers(c echo.Context) error {
	stats, err := s.dashboardStats(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DashboardNumbers(stats))
}

func (s *Server) dashboardStats(ctx context.Context) (views.DashboardStats, error) {
	var st views.DashboardStats
	roles, err := s.q.UserCountByRole(ctx)
	if err != nil {
		return st, err
	}
	for _, r := range roles {
		st.UsersByRole = append(st.UsersByRole, views.RoleCount{Role: r.Role, Users: r.Users})
	}
	if st.ActiveSessions, err = s.q.SessionCountActive(ctx); err != nil {
		return st, err
	}
	st.FailedSignIns, err = s.q.LoginFailureCountSince(ctx, time.Now().Add(-accounts.LoginWindow))
	return st, err
}
