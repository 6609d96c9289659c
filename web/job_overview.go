package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/jobs"
	"tally/views"
)

// jobs answers /jobs: the overview, or a list of jobs when the address carries a filter
// (/jobs?state=retryable).
func (s *Server) jobs(c echo.Context) error {
	if wantsJobList(c) {
		return s.jobList(c)
	}
	return s.jobOverview(c)
}

func (s *Server) jobOverview(c echo.Context) error {
	v, err := s.jobOverviewPage(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JobOverview(s.page(c, "Jobs", "jobs"), v))
}

// jobOverviewLive is the overview's numbers, which the page polls.
func (s *Server) jobOverviewLive(c echo.Context) error {
	v, err := s.jobOverviewPage(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JobOverviewLive(s.fragmentPage(c), v))
}

func (s *Server) jobOverviewPage(c echo.Context) (views.JobOverviewPage, error) {
	ctx := c.Request().Context()
	v := views.JobOverviewPage{Window: c.QueryParam("window")}
	switch v.Window {
	case "":
		v.Window = "hour"
	case "hour", "day":
	default:
		return v, tally.Errorf(tally.EINVALID, "The charts cover the last hour or the last day, not %q.", v.Window)
	}
	var err error
	if v.Overview, err = s.ops.Overview(ctx); err != nil {
		return v, err
	}
	// The charts, the circuit and the payouts are extras: the counts show without them.
	if v.Stats, err = s.ops.Throughput(ctx); err != nil {
		s.log.Error("jobs overview: throughput", "err", err)
		v.StatsErr = "The charts could not be read just now."
	}
	if st, err := jobs.ClientCircuit(ctx, s.river); err != nil {
		s.log.Error("jobs overview: partner circuit", "err", err)
		v.CircuitErr = "not readable just now"
	} else {
		v.Circuit = partnerCircuitView(st, time.Now())
	}
	if failing, cancelled, _, err := s.ops.PayoutProblemCounts(ctx); err != nil {
		s.log.Error("jobs overview: payout problems", "err", err)
	} else {
		v.PayoutProblems = failing + cancelled
	}
	v.CSRF = s.fragmentPage(c).CSRF
	return v, nil
}

// fragmentPage is the shared part of a page for a fragment that refreshes itself: who is
// signed in and the CSRF token, but not the flash, which waits for the next whole page.
func (s *Server) fragmentPage(c echo.Context) views.Page {
	p := views.Page{User: currentUser(c), Demo: s.cfg.Demo}
	if c.Get(ctxSession) != nil {
		p.CSRF = s.sessions.GetString(c.Request().Context(), sessionCSRF)
	}
	return p
}
