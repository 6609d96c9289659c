package web

import (
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"tally"
	"tally/operations"
	"tally/views"
)

// jobsChanged is the event the jobs lists and the failure groups listen for: an action
// changed jobs, they read themselves again.
const jobsChanged = "tally:jobs-changed"

// One handler per route, so that a route leads a reader to its action.
func (s *Server) jobRetry(c echo.Context) error      { return s.jobActOne(c, operations.ActionRetry) }
func (s *Server) jobCancel(c echo.Context) error     { return s.jobActOne(c, operations.ActionCancel) }
func (s *Server) jobDelete(c echo.Context) error     { return s.jobActOne(c, operations.ActionDelete) }
func (s *Server) jobRetryMany(c echo.Context) error  { return s.jobActMany(c, operations.ActionRetry) }
func (s *Server) jobCancelMany(c echo.Context) error { return s.jobActMany(c, operations.ActionCancel) }
func (s *Server) jobDeleteMany(c echo.Context) error { return s.jobActMany(c, operations.ActionDelete) }

// jobActOne retries, cancels or deletes one job (POST /jobs/:id/retry, …). A plain form
// goes back to the job's page (or, with then=reservation, to its reservation's page; with
// then=overview, to the jobs overview) with the outcome as a flash; htmx gets the flash.
func (s *Server) jobActOne(c echo.Context, action operations.Action) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "job")
	if err != nil {
		return err
	}
	reason, err := jobReason(c)
	if err != nil {
		return err
	}
	then := c.FormValue("then")
	if then != "" && then != "overview" && then != "reservation" {
		return tally.Errorf(tally.EINVALID, "then must be overview or reservation, not %q.", then)
	}
	before, err := s.ops.Get(ctx, id)
	if err != nil {
		return err
	}
	out, err := s.ops.Act(ctx, s.actor(c), action, []int64{id}, reason)
	if err != nil {
		return err
	}
	msg := out.Summary()
	if len(out.Items) == 1 {
		msg = out.Items[0].Detail
	}
	acted := out.Done+out.Requested > 0
	if isHTMX(c) {
		if !acted {
			return tally.Errorf(tally.ECONFLICT, "%s", msg)
		}
		c.Response().Header().Set("HX-Trigger", jobsChanged)
		return render(c, http.StatusOK, views.FlashOOB(views.Flash{Kind: "ok", Message: msg}))
	}
	s.flash(c, flashKind(acted, false), msg)
	next := views.JobURL(id)
	switch {
	case then == "reservation" && before.ReservationID != 0:
		next = fmt.Sprintf("/reservations/%d", before.ReservationID)
	case then == "overview":
		next = "/jobs"
	case action == operations.ActionDelete && out.Done == 1:
		next = views.JobsURL(before.State, "")
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// jobActMany retries, cancels or deletes the jobs ticked in a list (scope=selection, the
// default), answered with the list again and the outcome above it; or every job a filter
// matches (scope=filter), one batch per request, see jobActOnFilter.
func (s *Server) jobActMany(c echo.Context, action operations.Action) error {
	f, err := parseJobFilter(c)
	if err != nil {
		return err
	}
	reason, err := jobReason(c)
	if err != nil {
		return err
	}
	switch scope := c.FormValue("scope"); scope {
	case "filter":
		return s.jobActOnFilter(c, action, f, reason)
	case "", "selection":
	default:
		return tally.Errorf(tally.EINVALID, "scope must be selection or filter, not %q.", scope)
	}
	ids, err := jobSelection(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	out, err := s.ops.Act(ctx, s.actor(c), action, ids, reason)
	if err != nil {
		return err
	}
	acted, skipped := out.Done+out.Requested > 0, len(out.Skipped) > 0
	if !isHTMX(c) {
		s.flash(c, flashKind(acted, skipped), out.Summary())
		return c.Redirect(http.StatusSeeOther, f.url(f.cursor))
	}
	l, err := s.jobListPage(ctx, f)
	if err != nil {
		return err
	}
	outcome := jobOutcome(out)
	l.Outcome = &outcome
	p := s.fragmentPage(c)
	return render(c, http.StatusOK, templ.Join(views.JobResults(p, l), views.FlashOOB(views.Flash{Kind: flashKind(acted, skipped), Message: out.Summary()})))
}

// jobOutcome is what an action did, as the page lists it: the jobs left alone, and why.
func jobOutcome(o operations.Outcome) views.JobOutcome {
	v := views.JobOutcome{Summary: o.Summary()}
	for _, it := range o.Items {
		if !it.Done && !it.Requested {
			v.Items = append(v.Items, it)
		}
	}
	n := 0
	for _, k := range o.Skipped {
		n += k
	}
	v.More = n > len(v.Items)
	return v
}

// flashKind is how an action's flash looks: ok when it did everything, info when it left
// some jobs alone, an error when it did nothing.
func flashKind(acted, skipped bool) string {
	switch {
	case !acted:
		return "error"
	case skipped:
		return "info"
	}
	return "ok"
}
