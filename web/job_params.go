package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/operations"
	"tally/views"
)

// This file reads the jobs console's query strings and forms, the way params.go does for
// the rest: anything malformed is EINVALID naming the parameter, and changes nothing.

// jobListParams are the parameters of a jobs list: its filter and its page.
var jobListParams = []string{"state", "kind", "queue", "reservation", "error", "pattern", "cursor"}

// jobFilter is a jobs list's filter, parsed and checked, with the text it was given.
type jobFilter struct {
	raw    views.JobFilter
	filter operations.Filter
	cursor string
}

// wantsJobList reports whether /jobs was asked for a list (any list parameter) rather than
// the overview.
func wantsJobList(c echo.Context) bool {
	q := c.QueryParams()
	for _, name := range jobListParams {
		if _, ok := q[name]; ok {
			return true
		}
	}
	return false
}

// parseJobFilter reads a jobs filter from the query string (GET) or the form (POST).
func parseJobFilter(c echo.Context) (jobFilter, error) {
	values := c.QueryParams()
	if c.Request().Method == "POST" {
		form, err := c.FormParams()
		if err != nil {
			return jobFilter{}, tally.Errorf(tally.EINVALID, "The request could not be read.")
		}
		values = form
	}
	return jobFilterOf(values)
}

func jobFilterOf(v url.Values) (jobFilter, error) {
	f := jobFilter{raw: views.JobFilter{
		Kind: v.Get("kind"), Queue: v.Get("queue"), Reservation: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v.Get("reservation")), "#")),
		Error: strings.TrimSpace(v.Get("error")), Pattern: v.Get("pattern"),
	}, cursor: v.Get("cursor")}
	for _, st := range v["state"] {
		if st == "" {
			continue
		}
		if !slices.Contains(operations.States, st) {
			return f, tally.Errorf(tally.EINVALID, "Unknown job state %q.", st)
		}
		if !slices.Contains(f.raw.States, st) {
			f.raw.States = append(f.raw.States, st)
		}
	}
	for _, p := range []struct{ name, value string }{{"kind", f.raw.Kind}, {"queue", f.raw.Queue}, {"error", f.raw.Error}, {"pattern", f.raw.Pattern}, {"cursor", f.cursor}} {
		if !utf8.ValidString(p.value) || strings.ContainsRune(p.value, 0) {
			return f, tally.Errorf(tally.EINVALID, "%s is not text.", p.name)
		}
	}
	if len(f.cursor) > 1000 {
		return f, tally.Errorf(tally.EINVALID, "The page address is not valid: go back to the first page.")
	}
	f.filter = operations.Filter{States: slices.Clone(f.raw.States), Kind: f.raw.Kind, Queue: f.raw.Queue, Error: f.raw.Error, Pattern: f.raw.Pattern}
	if f.raw.Reservation != "" {
		id, err := strconv.ParseInt(f.raw.Reservation, 10, 64)
		if err != nil || id <= 0 {
			return f, tally.Errorf(tally.EINVALID, "reservation must be a reservation's number, not %q.", f.raw.Reservation)
		}
		f.filter.ReservationID = id
	}
	return f, f.filter.Validate()
}

// values are the filter's parameters (without the page).
func (f jobFilter) values() url.Values {
	v := url.Values{}
	for _, st := range f.raw.States {
		v.Add("state", st)
	}
	for k, val := range map[string]string{"kind": f.raw.Kind, "queue": f.raw.Queue, "reservation": f.raw.Reservation,
		"error": f.raw.Error, "pattern": f.raw.Pattern} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// url is the list's address with this filter, on the page after cursor ("" for the first).
// A filter of nothing at all still asks for a list (state= with no value), not the overview.
func (f jobFilter) url(cursor string) string {
	v := f.values()
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return "/jobs?state="
	}
	return "/jobs?" + v.Encode()
}

// jobSelection reads the ticked jobs of a list: id=…, each a positive number.
func jobSelection(c echo.Context) ([]int64, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, tally.Errorf(tally.EINVALID, "The request could not be read.")
	}
	values := form["id"]
	if len(values) == 0 {
		return nil, tally.Errorf(tally.EINVALID, "Select at least one job.")
	}
	if len(values) > operations.MaxSelection {
		return nil, tally.Errorf(tally.EINVALID, "Select at most %d jobs at once; act on the filter for more.", operations.MaxSelection)
	}
	ids := make([]int64, 0, len(values))
	for _, v := range values {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, tally.Errorf(tally.EINVALID, "%q is not a job id.", v)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// jobReason reads the optional reason an operator gives for an action.
func jobReason(c echo.Context) (string, error) {
	reason := strings.TrimSpace(c.FormValue("reason"))
	return reason, operations.CheckReason(reason)
}

// jobProgress is where an action on a filter stands between its batches: the last job id
// reached, how many were reached, the counts so far, and how many the preview counted. The
// page carries them from one batch to the next, for the summary and the progress bar only:
// the cap is enforced on reached, and the audit log has each job acted on.
type jobProgress struct {
	after                              int64
	reached, done, requested, matching int
	atLeast                            bool
	skipped                            map[string]int
}

// parseJobProgress reads the progress fields of an action's next batch; bad ones are refused.
func parseJobProgress(c echo.Context) (jobProgress, error) {
	p := jobProgress{skipped: map[string]int{}}
	if v := c.FormValue("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return p, tally.Errorf(tally.EINVALID, "after must be a job id, not %q.", v)
		}
		p.after = n
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"reached", &p.reached}, {"done", &p.done}, {"requested", &p.requested}, {"matching", &p.matching}} {
		v := c.FormValue(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<30 {
			return p, tally.Errorf(tally.EINVALID, "%s must be a whole number, not %q.", f.name, v)
		}
		*f.dst = n
	}
	switch v := c.FormValue("atleast"); v {
	case "", "false":
	case "true":
		p.atLeast = true
	default:
		return p, tally.Errorf(tally.EINVALID, "atleast must be true or false, not %q.", v)
	}
	if v := c.FormValue("skipped"); v != "" {
		for _, part := range strings.Split(v, ";") {
			reason, count, ok := strings.Cut(part, "=")
			n, err := strconv.Atoi(count)
			if !ok || err != nil || n < 0 || n > 1<<30 || !slices.Contains(skipReasons, reason) {
				return p, tally.Errorf(tally.EINVALID, "The progress of this action is not valid: start it again.")
			}
			p.skipped[reason] += n
		}
	}
	return p, nil
}

// skipReasons are the reasons a job is left alone, as the progress fields carry them.
var skipReasons = []string{operations.SkipNotFound, operations.SkipRunning, operations.SkipWaiting, operations.SkipCompleted,
	operations.SkipFinished, operations.SkipPending, operations.SkipNotDue, operations.SkipChanged}

// encodeSkipped writes the skipped counts as the progress field carries them.
func encodeSkipped(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, r := range skipReasons {
		if n := m[r]; n > 0 {
			parts = append(parts, r+"="+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, ";")
}

// queueName is the :name of a queue's address.
func queueName(c echo.Context) string { return c.Param("name") }
