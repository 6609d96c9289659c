package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tally/accounts"
	"tally/queries"
	"tally/reservations"
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
	y, m, d := time.Now().UTC().Date()
	today, err := s.q.ReservationStatsSince(ctx, time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return st, err
	}
	st.HeldToday, st.ApprovedToday, st.SettledToday = today.Held, today.Approved, today.Settled
	st.SettledAmount = reservations.Money(today.SettledCents, "EUR")
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
	if st.FailedSignIns, err = s.q.LoginFailureCountSince(ctx, time.Now().Add(-accounts.LoginWindow)); err != nil {
		return st, err
	}
	st.Latest, err = s.q.AuditListLatest(ctx, queries.AuditListLatestParams{RowLimit: 10})
	return st, err
}
