package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"tally/jobs"
	"tally/operations"
	"tally/views"
)

// jobPageSize is how many jobs a list page shows.
const jobPageSize = 50

// jobListCountCap is where the list's count of matching jobs stops ("more than 1,000"): an
// exact count reads every matching job, and an error text's candidates are each matched
// again. The preview of an action on the filter counts up to the action's cap.
const jobListCountCap = 1_000

// jobList is a list of jobs: one state or more, narrowed by kind, queue, reservation, error
// text or failure group, newest first, paged with River's cursor.
func (s *Server) jobList(c echo.Context) error {
	f, err := parseJobFilter(c)
	if err != nil {
		return err
	}
	l, err := s.jobListPage(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JobList(s.page(c, "Jobs", "jobs"), l))
}

func (s *Server) jobListPage(ctx context.Context, f jobFilter) (views.JobListPage, error) {
	l := views.JobListPage{Filter: f.raw, Cap: s.ops.Cap(), Cursor: f.cursor, Now: time.Now(), Kinds: operations.Kinds,
		Queues: []string{jobs.QueueDefault, jobs.QueuePartner, jobs.QueueMaintenance}, SelfURL: f.url(f.cursor)}
	page, err := s.ops.List(ctx, f.filter, f.cursor, jobPageSize)
	if err != nil {
		return l, err
	}
	l.Jobs = page.Jobs
	if page.Next != "" {
		l.NextURL = f.url(page.Next)
	}
	if f.cursor != "" {
		l.FirstURL = f.url("")
	}
	if l.Matching, err = s.ops.Count(ctx, f.filter, min(jobListCountCap, s.ops.Cap())); err != nil {
		return l, err
	}
	switch st := f.raw.States; {
	case len(st) == 1:
		l.Tab = st[0]
	case f.raw.Pattern != "" && slices.Equal(st, operations.FailedStates):
		l.Tab = "failures"
	case len(st) == 0:
		l.Tab = "all"
	}
	return l, nil
}
