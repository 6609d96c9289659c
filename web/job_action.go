package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"tally"
	"tally/operations"
	"tally/views"
)

// jobPreview is the confirmation of an action on everything a filter matches: how many jobs
// (up to the cap), and for a failure group of payouts the money at stake.
func (s *Server) jobPreview(c echo.Context) error {
	ctx := c.Request().Context()
	action, err := operations.ParseAction(c.QueryParam("action"))
	if err != nil {
		return err
	}
	f, err := parseJobFilter(c)
	if err != nil {
		return err
	}
	n, err := s.ops.Count(ctx, f.filter, s.ops.Cap())
	if err != nil {
		return err
	}
	if n.N == 0 {
		return tally.Errorf(tally.ECONFLICT, "No job matches this filter now: there is nothing to %s.", action)
	}
	v := views.JobActionPreview{Action: action, Filter: f.raw, Matching: n, Cap: s.ops.Cap(), Batch: s.ops.BatchSize(),
		CSRF: s.fragmentPage(c).CSRF}
	if f.filter.Pattern != "" {
		groups, err := s.ops.FailureGroups(ctx)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.Kind == f.filter.Kind && g.Pattern == f.filter.Pattern {
				v.AtStake = g.AtStake
			}
		}
	}
	if !isHTMX(c) {
		return render(c, http.StatusOK, views.JobActionPage(s.page(c, action.Verb()+" jobs", "jobs"), v))
	}
	return render(c, http.StatusOK, views.JobActionPanel(v))
}

// jobActOnFilter takes an action on every job a filter matches. With htmx, each request is
// one batch (one transaction): the answer shows the progress and sends the next batch itself,
// until the jobs or the cap run out; then the outcome, a flash, and the lists read again.
// Without htmx, the batches run one after the other in this request.
func (s *Server) jobActOnFilter(c echo.Context, action operations.Action, f jobFilter, reason string) error {
	ctx := c.Request().Context()
	prog, err := parseJobProgress(c)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		out, err := s.ops.ActOnFilterAll(ctx, s.actor(c), action, f.filter, reason)
		if err != nil && out.Reached() == 0 {
			return err
		} else if err != nil {
			s.flash(c, "error", out.Summary()+"; then: "+tally.ErrorMessage(err))
		} else {
			s.flash(c, flashKind(out.Done+out.Requested > 0, len(out.Skipped) > 0), out.Summary())
		}
		return c.Redirect(http.StatusSeeOther, f.url(""))
	}
	batch, err := s.ops.ActOnFilter(ctx, s.actor(c), action, f.filter, prog.after, prog.reached, reason)
	if err != nil {
		return err
	}
	total := operations.Outcome{Action: action, Done: prog.done, Requested: prog.requested, Skipped: prog.skipped}
	total.Merge(batch)
	total.Items = batch.Items
	matching := operations.Count{N: int64(prog.matching), AtLeast: prog.atLeast}
	if batch.More {
		return render(c, http.StatusOK, views.JobActionProgressPanel(views.JobActionProgress{
			Action: action, Filter: f.raw, Reason: reason, After: batch.Last, Reached: prog.reached + batch.Reached(),
			Done: total.Done, Requested: total.Requested, Skipped: encodeSkipped(total.Skipped), Summary: total.Summary(),
			Matching: matching, Cap: s.ops.Cap(),
		}))
	}
	c.Response().Header().Set("HX-Trigger", jobsChanged)
	acted, skipped := total.Done+total.Requested > 0, len(total.Skipped) > 0
	return render(c, http.StatusOK, templ.Join(views.JobActionDone(jobOutcome(total)),
		views.FlashOOB(views.Flash{Kind: flashKind(acted, skipped), Message: total.Summary()})))
}
