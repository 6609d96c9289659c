package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/analysis"
	"tally/views"
)

// queryShow is one catalogue query on the workbench, its parameters filled from a set.
func (s *Server) queryShow(c echo.Context) error {
	q, ok := analysis.Lookup(c.Param("name"))
	if !ok {
		return tally.Errorf(tally.ENOTFOUND, "There is no query %q in the catalogue.", c.Param("name"))
	}
	b, err := s.queryBench(c.Request().Context(), &q, nil)
	if err != nil {
		return err
	}
	set := c.QueryParam("set")
	if set == "" {
		set = "default"
	}
	found := false
	for _, ps := range b.Sets {
		if ps.ID == set {
			found = true
			for i := range b.Params {
				b.Params[i].Value = ps.Values[i]
			}
		}
	}
	if !found {
		return tally.Errorf(tally.EINVALID, "There is no parameter set %q for %s.", set, q.Name)
	}
	b.Set = set
	return render(c, http.StatusOK, views.QueryBenchPage(s.page(c, q.Name, "queries"), b))
}

// queryBench builds the workbench for a catalogue query (q) or a pasted statement, with the
// choices the candidate form offers. values, when given, fill the parameter fields.
func (s *Server) queryBench(ctx context.Context, q *analysis.Query, values []string) (views.QueryBench, error) {
	b := views.QueryBench{Query: q, Timeout: defaultTimeout.String(), Timeouts: timeoutChoices(),
		Candidate: views.CandidateForm{Table: "reservations", Runs: fmt.Sprint(analysis.DefaultRuns)}}
	var err error
	if b.HypoPG, err = s.analysis.HypoPG(ctx); err != nil {
		return b, err
	}
	if b.Tables, err = s.analysis.Tables(ctx); err != nil {
		return b, err
	}
	if q == nil {
		return b, nil
	}
	b.SQL = q.SQL
	sample, err := s.analysis.Sample(ctx)
	if err != nil {
		return b, err
	}
	b.Sets = q.ParamSets(sample, time.Now())
	for i, a := range q.Args {
		f := views.QueryParamField{Name: a.Name, Type: a.Type, Nullable: a.Nullable}
		if i < len(values) {
			f.Value = values[i]
		}
		b.Params = append(b.Params, f)
	}
	return b, nil
}

// queryRunBench is the workbench as a run left it: the statement and the fields as sent.
func (s *Server) queryRunBench(ctx context.Context, r queryRun) (views.QueryBench, error) {
	var q *analysis.Query
	if r.in.Query != "" {
		found, ok := analysis.Lookup(r.in.Query)
		if !ok {
			return views.QueryBench{}, tally.Errorf(tally.ENOTFOUND, "There is no query %q in the catalogue.", r.in.Query)
		}
		q = &found
	}
	b, err := s.queryBench(ctx, q, r.in.Values)
	if err != nil {
		return b, err
	}
	if q == nil {
		b.SQL = r.in.SQL
		for i, v := range r.in.Values {
			b.Params = append(b.Params, views.QueryParamField{Name: fmt.Sprintf("$%d", i+1), Value: v})
		}
	}
	b.Verbose, b.Settings, b.Timeout = r.opts.Verbose, r.opts.Settings, r.timeout
	return b, nil
}

// queryExplain runs the workbench's statement under EXPLAIN ANALYZE and shows the plan, or
// why it did not run, in the workbench.
func (s *Server) queryExplain(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := parseQueryRun(c)
	if err != nil {
		return err
	}
	res, runErr := s.analysis.Explain(ctx, r.in, r.opts)
	b, err := s.queryRunBench(ctx, r)
	if err != nil {
		return err
	}
	status := http.StatusOK
	var need *analysis.NeedParams
	switch {
	case errors.As(runErr, &need):
		b.Params = b.Params[:0]
		for _, p := range need.Params {
			b.Params = append(b.Params, views.QueryParamField{Name: p.Name, Type: p.Type, Value: p.Display(), Nullable: true})
		}
		b.Error = fmt.Sprintf("The statement has %d parameters: give their values below and run it again.", len(need.Params))
		status = http.StatusUnprocessableEntity
	case runErr != nil && tally.ErrorCode(runErr) == tally.EINTERNAL:
		return runErr
	case runErr != nil:
		b.Error, status = tally.ErrorMessage(runErr), errorStatus(tally.ErrorCode(runErr))
	default:
		b.Result = &res
		if res.Statement.Query == "" {
			// Show the pasted statement's parameters with the types PostgreSQL gave them.
			b.Params = b.Params[:0]
			for _, p := range res.Statement.Params {
				b.Params = append(b.Params, views.QueryParamField{Name: p.Name, Type: p.Type, Value: p.Display(), Nullable: true})
			}
		}
		if t := scannedTable(res.Plan, b.Tables); t != "" {
			b.Candidate.Table = t
		}
	}
	return s.renderBench(c, status, b)
}

// renderBench answers with the workbench: the section alone for htmx, the page otherwise.
func (s *Server) renderBench(c echo.Context, status int, b views.QueryBench) error {
	p := s.page(c, b.Title(), "queries")
	if isHTMX(c) {
		return render(c, status, views.QueryBenchSection(p, b))
	}
	return render(c, status, views.QueryBenchPage(p, b))
}

// scannedTable is the table whose scan costs the plan most (the likeliest home of a
// candidate index), if the candidate form offers it.
func scannedTable(p *analysis.Plan, tables []analysis.Table) string {
	best, share := "", -1.0
	for _, n := range p.Nodes {
		if n.Relation != "" && n.Share > share {
			for _, t := range tables {
				if t.Name == n.Relation {
					best, share = n.Relation, n.Share
				}
			}
		}
	}
	return best
}

// queryCandidate is the candidate form's column choices for the table chosen.
func (s *Server) queryCandidate(c echo.Context) error {
	tables, err := s.analysis.Tables(c.Request().Context())
	if err != nil {
		return err
	}
	name := c.QueryParam("table")
	for _, t := range tables {
		if t.Name == name {
			return render(c, http.StatusOK, views.CandidateColumns(t, views.CandidateForm{Table: name}))
		}
	}
	return tally.Errorf(tally.EINVALID, "Choose a table from the list.")
}
