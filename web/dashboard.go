package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/audit"
	"tally/jobs"
	"tally/reservations"
	"tally/views"
)

func (s *Server) dashboard(c echo.Context) error {
	stats, err := s.dashboardStats(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Dashboard(s.page(c, "Dashboard", "dashboard"), stats))
}

func (s *Server) dashboardNumbers(c echo.Context) error {
	stats, err := s.dashboardStats(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DashboardNumbers(stats))
}

func (s *Server) dashboardStats(c echo.Context) (views.DashboardStats, error) {
	ctx := c.Request().Context()
	st := views.DashboardStats{LinkUsers: currentUser(c).Can(tally.RoleAdmin)}
	y, m, d := time.Now().UTC().Date()
	totals, err := s.bookings.TotalsSince(ctx, time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return st, err
	}
	for _, t := range totals {
		st.HeldToday += t.Held
		st.ApprovedToday += t.Approved
		st.SettledToday += t.Settled
		if t.SettledCents != 0 {
			st.SettledAmounts = append(st.SettledAmounts, reservations.Money(t.SettledCents, t.Currency))
		}
	}
	o, err := s.accounts.Overview(ctx)
	if err != nil {
		return st, err
	}
	for _, r := range tally.Roles {
		if n := o.UsersByRole[r]; n > 0 {
			st.UsersByRole = append(st.UsersByRole, views.RoleCount{Role: string(r), Users: n})
		}
	}
	st.ActiveSessions, st.FailedSignIns = o.ActiveSessions, o.FailedSignIns
	if st.Jobs, err = s.ops.Health(ctx); err != nil {
		return st, err
	}
	circuit, err := jobs.ClientCircuit(ctx, s.river)
	if err != nil { // the rest of the dashboard is worth showing without it
		s.log.Error("reading the partner circuit", "err", err)
		circuit = jobs.CircuitStatus{}
	}
	st.Circuit = partnerCircuitView(circuit, time.Now())
	st.Latest, err = s.audit.List(ctx, audit.Filter{Limit: 10})
	return st, err
}
