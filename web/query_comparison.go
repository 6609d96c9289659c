package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/analysis"
	"tally/views"
)

// queryCompare starts a comparison of the workbench's statement without and with the
// candidate index, and goes to it: done at once when hypothetical, under way when real.
func (s *Server) queryCompare(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := parseQueryRun(c)
	if err != nil {
		return err
	}
	ch, err := parseCandidate(c)
	if err != nil {
		return err
	}
	id, cmpErr := s.analysis.Compare(ctx, s.actor(c), analysis.CompareRequest{Input: r.in, Candidate: ch.candidate, Mode: ch.mode, Runs: ch.runs, Timeout: r.opts.Timeout})
	if cmpErr != nil {
		if tally.ErrorCode(cmpErr) == tally.EINTERNAL {
			return cmpErr
		}
		// Refused (a statement that does not run, a candidate that does not hold, a build
		// under way): the workbench again, as it was sent, saying why.
		b, err := s.queryRunBench(ctx, r)
		if err != nil {
			return err
		}
		b.Candidate = ch.form
		b.Error = tally.ErrorMessage(cmpErr)
		return s.renderBench(c, errorStatus(tally.ErrorCode(cmpErr)), b)
	}
	if ch.mode == analysis.ModeReal {
		s.flash(c, "ok", fmt.Sprintf("Comparison #%d started: the candidate index is being built.", id))
	} else {
		s.flash(c, "ok", fmt.Sprintf("Comparison #%d saved.", id))
	}
	return redirectTo(c, fmt.Sprintf("/queries/comparisons/%d", id))
}

// redirectTo sends the browser to url: htmx follows HX-Redirect, a form post a 303.
func redirectTo(c echo.Context, url string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// queryComparisonShow is one saved comparison.
func (s *Server) queryComparisonShow(c echo.Context) error {
	id, err := pathID(c, "comparison")
	if err != nil {
		return err
	}
	cmp, err := s.analysis.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.QueryComparison(s.page(c, fmt.Sprintf("Comparison #%d", id), "queries"), cmp))
}

// queryComparisonProgress is a running comparison's phase; once it has ended, htmx reloads
// the page to show the outcome.
func (s *Server) queryComparisonProgress(c echo.Context) error {
	id, err := pathID(c, "comparison")
	if err != nil {
		return err
	}
	cmp, err := s.analysis.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !cmp.Running() {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return render(c, http.StatusOK, views.ComparisonProgress(cmp))
}

// queryComparisonRerun runs a saved comparison again on today's data, as a new one.
func (s *Server) queryComparisonRerun(c echo.Context) error {
	id, err := pathID(c, "comparison")
	if err != nil {
		return err
	}
	newID, err := s.analysis.Rerun(c.Request().Context(), s.actor(c), id)
	if err != nil {
		return err
	}
	s.flash(c, "ok", fmt.Sprintf("Comparison #%d runs #%d again on today's data.", newID, id))
	return redirectTo(c, fmt.Sprintf("/queries/comparisons/%d", newID))
}
