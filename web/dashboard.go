package web

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/accounts"
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

// dashboardStats reads the dashboard's numbers. Its five reads do not depend on each other:
// they run at once, each on its own connection, so that the page takes as long as the
// slowest rather than the sum.
func (s *Server) dashboardStats(c echo.Context) (views.DashboardStats, error) {
	ctx := c.Request().Context()
	st := views.DashboardStats{LinkUsers: currentUser(c).Can(tally.RoleAdmin)}
	y, m, d := time.Now().UTC().Date()
	var (
		wg      sync.WaitGroup
		totals  []reservations.DayTotals
		o       accounts.Overview
		circuit jobs.CircuitStatus
		errs    [5]error
	)
	run := func(i int, read func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = read()
		}()
	}
	run(0, func() (err error) {
		totals, err = s.bookings.TotalsSince(ctx, time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
		return err
	})
	run(1, func() (err error) { o, err = s.accounts.Overview(ctx); return err })
	run(2, func() (err error) { st.Jobs, err = s.ops.Health(ctx); return err })
	run(3, func() (err error) { circuit, err = jobs.ClientCircuit(ctx, s.river); return err })
	run(4, func() (err error) { st.Latest, err = s.audit.List(ctx, audit.Filter{Limit: 10}); return err })
	wg.Wait()
	if errs[3] != nil { // the rest of the dashboard is worth showing without it
		s.log.Error("reading the partner circuit", "err", errs[3])
		circuit = jobs.CircuitStatus{}
	}
	st.Circuit = partnerCircuitView(circuit, time.Now())
	if err := errors.Join(errs[0], errs[1], errs[2], errs[4]); err != nil {
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
	for _, r := range tally.Roles {
		if n := o.UsersByRole[r]; n > 0 {
			st.UsersByRole = append(st.UsersByRole, views.RoleCount{Role: string(r), Users: n})
		}
	}
	st.ActiveSessions, st.FailedSignIns = o.ActiveSessions, o.FailedSignIns
	return st, nil
}
