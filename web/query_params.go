package web

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/analysis"
	"tally/views"
)

// The query-analysis forms, read and checked: what is malformed is EINVALID with a sentence.
// What the names mean (a catalogue query, a table, a column) is checked by package analysis.

// maxParams bounds the parameter fields a run may send ($1 … $100).
const maxParams = 100

// queryRun is the workbench form: the statement, its parameters, the EXPLAIN options.
type queryRun struct {
	in   analysis.Input
	opts analysis.Options
	// timeout is the option as chosen, for the form to show it again.
	timeout string
}

// timeoutChoices are the timeouts the form offers, by label.
func timeoutChoices() []string {
	out := make([]string, len(analysis.Timeouts))
	for i, t := range analysis.Timeouts {
		out[i] = t.String()
	}
	return out
}

const defaultTimeout = 5 * time.Second

func parseQueryRun(c echo.Context) (queryRun, error) {
	form, err := c.FormParams()
	if err != nil {
		return queryRun{}, tally.Errorf(tally.EINVALID, "The request could not be read.")
	}
	r := queryRun{timeout: defaultTimeout.String()}
	r.in.Query = strings.TrimSpace(form.Get("query"))
	if utf8.RuneCountInString(r.in.Query) > 100 {
		return r, tally.Errorf(tally.EINVALID, "There is no such query in the catalogue.")
	}
	if r.in.Query == "" {
		r.in.SQL = form.Get("sql")
		if utf8.RuneCountInString(r.in.SQL) > analysis.MaxStatement {
			return r, tally.Errorf(tally.EINVALID, "The statement is too long (at most %d characters).", analysis.MaxStatement)
		}
	}
	// p1 … pN: the parameters in $n order. None at all means none were given (a pasted
	// statement's first run), which is not the same as empty ones (NULL).
	n := 0
	for key := range form {
		if i, ok := paramIndex(key); ok {
			n = max(n, i)
		}
	}
	if n > 0 {
		r.in.Values = make([]string, n)
		for i := range r.in.Values {
			r.in.Values[i] = form.Get("p" + strconv.Itoa(i+1))
		}
	}
	r.opts = analysis.Options{Analyze: true, Timing: true, Verbose: form.Get("verbose") == "on", Settings: form.Get("settings") == "on"}
	if t := form.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		ok := err == nil
		if ok {
			ok = false
			for _, allowed := range analysis.Timeouts {
				ok = ok || d == allowed
			}
		}
		if !ok {
			return r, tally.Errorf(tally.EINVALID, "Choose a timeout from the list.")
		}
		r.opts.Timeout, r.timeout = d, d.String()
	}
	return r, nil
}

// paramIndex reads a parameter field's name: p1 … p100.
func paramIndex(key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, "p")
	if !ok || rest == "" || rest[0] == '0' {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil && i >= 1 && i <= maxParams
}

// candidateChoice is the candidate-index part of the workbench form.
type candidateChoice struct {
	candidate analysis.Candidate
	mode      string
	runs      int
	form      views.CandidateForm
}

func parseCandidate(c echo.Context) (candidateChoice, error) {
	form, err := c.FormParams()
	if err != nil {
		return candidateChoice{}, tally.Errorf(tally.EINVALID, "The request could not be read.")
	}
	ch := candidateChoice{mode: form.Get("mode"), runs: analysis.DefaultRuns}
	ch.form = views.CandidateForm{Table: form.Get("table"), Predicate: form.Get("predicate"), Runs: form.Get("runs")}
	ch.candidate = analysis.Candidate{Table: ch.form.Table, Predicate: ch.form.Predicate}
	for i := 1; i <= analysis.MaxCandidateColumns; i++ {
		v := form.Get("col" + strconv.Itoa(i))
		ch.form.Columns = append(ch.form.Columns, v)
		if v != "" {
			ch.candidate.Columns = append(ch.candidate.Columns, v)
		}
	}
	for i := 1; i <= 2; i++ {
		v := form.Get("inc" + strconv.Itoa(i))
		ch.form.Include = append(ch.form.Include, v)
		if v != "" {
			ch.candidate.Include = append(ch.candidate.Include, v)
		}
	}
	if ch.form.Runs != "" {
		n, err := strconv.Atoi(strings.TrimSpace(ch.form.Runs))
		if err != nil || n < 1 || n > analysis.MaxRuns {
			return ch, tally.Errorf(tally.EINVALID, "Runs per side: a whole number from 1 to %d.", analysis.MaxRuns)
		}
		ch.runs = n
	} else {
		ch.form.Runs = strconv.Itoa(analysis.DefaultRuns)
	}
	switch ch.mode {
	case analysis.ModeHypothetical, analysis.ModeReal:
	default:
		return ch, tally.Errorf(tally.EINVALID, "Choose the hypothetical or the real comparison.")
	}
	return ch, nil
}
