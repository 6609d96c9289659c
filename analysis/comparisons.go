package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"tally"
	"tally/audit"
	"tally/queries"
)

// abandonedAfter is how long a running comparison may go without a heartbeat before it is
// taken for abandoned (its process stopped); it beats at least every few seconds.
const abandonedAfter = 2 * time.Minute

// CompareRequest asks for a comparison of a statement without and with a candidate index.
type CompareRequest struct {
	Input     Input
	Candidate Candidate
	Mode      string
	// Runs per side in the real mode (default DefaultRuns).
	Runs int
	// RerunOf is the saved comparison this one repeats, if any.
	RerunOf int64
	// Timeout bounds each run of the statement (zero: the service's default).
	Timeout time.Duration
}

// Comparison is a saved comparison, with its plans parsed and its figures worked out.
type Comparison struct {
	ID           int64
	Query        string
	SQL          string
	Params       []Param
	Candidate    Candidate
	CandidateDDL string
	Mode         string
	Runs         int
	Status       string
	Phase        string
	Progress     float64
	Error        string
	RerunOf      int64
	CreatedBy    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   *time.Time
	PlanA, PlanB *Plan
	Outcome      Outcome
	// A and B summarise the measured runs (real mode).
	A, B Stats
	// Pairs aligns plan A's nodes with plan B's.
	Pairs []Pair
	// Predicted are HypoPG's plans, parsed, where it ran.
	PredictedA, PredictedB *Plan
	// Earlier is the comparison this one re-ran (without its own earlier one), to show the
	// plans then and now: before and after a migration.
	Earlier *Comparison
}

// Running says whether the comparison is still under way.
func (c Comparison) Running() bool { return c.Status == StatusRunning }

// ComparisonLine is one comparison in the list.
type ComparisonLine struct {
	ID           int64
	Query        string
	CandidateDDL string
	Mode         string
	Runs         int
	Status       string
	Verdict      string
	Error        string
	RerunOf      int64
	CreatedBy    string
	CreatedAt    time.Time
}

// Compare starts a comparison for actor and saves it. A hypothetical one is done when Compare
// returns; a real one runs on in the background (see Wait), and its saved row shows how far
// it has got. Only one real comparison runs at a time in a database: another is refused.
func (s *Service) Compare(ctx context.Context, actor tally.Actor, req CompareRequest) (int64, error) {
	if req.Mode != ModeHypothetical && req.Mode != ModeReal {
		return 0, tally.Errorf(tally.EINVALID, "Choose the hypothetical or the real mode.")
	}
	if req.Runs == 0 {
		req.Runs = DefaultRuns
	}
	if req.Timeout <= 0 {
		req.Timeout = s.cfg.Timeout
	}
	if req.Runs < 1 || req.Runs > MaxRuns {
		return 0, tally.Errorf(tally.EINVALID, "Runs per side: from 1 to %d.", MaxRuns)
	}
	sql, names, err := statementOf(req.Input)
	if err != nil {
		return 0, err
	}
	if _, err := CheckStatement(sql); err != nil {
		return 0, err
	}
	tables, err := s.Tables(ctx)
	if err != nil {
		return 0, err
	}
	if err := req.Candidate.Validate(tables); err != nil {
		return 0, err
	}
	hypo, err := s.HypoPG(ctx)
	if err != nil {
		return 0, err
	}
	if req.Mode == ModeHypothetical && !hypo.Ready() {
		return 0, tally.Errorf(tally.EUNPROCESSABLE, "The hypothetical mode needs HypoPG. %s", hypo.Advice())
	}

	// The statement is checked and typed on a session of its own first, so that a statement
	// that cannot run is refused now, not in the background.
	ss, err := s.openSession(ctx)
	if err != nil {
		return 0, err
	}
	var st Statement
	err = ss.readOnly(ctx, req.Timeout, func(tx pgx.Tx) error {
		var err error
		if st, err = prepare(ctx, tx, req.Input.Query, sql, names, req.Input.Values); err != nil {
			return err
		}
		if _, err := explain(ctx, tx, st.SQL, st.oids, st.values(), Options{}); err != nil {
			return runError(err, req.Timeout)
		}
		return nil
	})
	if err != nil {
		ss.close()
		return 0, err
	}
	var id int64
	if req.Mode == ModeHypothetical {
		defer ss.close()
		p, err := s.hypothetical(ctx, ss, st, req.Candidate.hypotheticalDDL(tables), req.Timeout)
		if err != nil {
			return 0, err
		}
		out := Outcome{Prediction: &p, IndexName: p.IndexName, IndexBytes: p.IndexBytes, IndexUsed: p.IndexUsed, Verdict: verdictHypothetical(p)}
		if name := req.Candidate.Repeats(tables); name != "" {
			out.Notes = append(out.Notes, fmt.Sprintf("%s already has an index on these columns: %s.", req.Candidate.Table, name))
		}
		err = s.inTx(ctx, func(q *queries.Queries, tx pgx.Tx) error {
			var err error
			if id, err = s.save(ctx, q, tx, actor, req, st, tables, ""); err != nil {
				return err
			}
			return s.finish(ctx, q, tx, actor, id, StatusDone, p.PlanA, p.PlanB, out, "", false)
		})
		return id, err
	}
	ss.close()

	// One real comparison at a time: the build session holds the lock until it closes.
	build, err := s.openBuildSession(ctx)
	if err != nil {
		return 0, err
	}
	locked, err := queries.New(build).QueryAnalysisBuildLock(ctx)
	if err != nil || !locked {
		build.Close(context.Background())
		if err != nil {
			return 0, err
		}
		return 0, tally.Errorf(tally.ECONFLICT, "Another real comparison is building or measuring a candidate index; two at once would measure each other. Try again when it has finished (see the saved comparisons).")
	}
	err = s.inTx(ctx, func(q *queries.Queries, tx pgx.Tx) error {
		var err error
		id, err = s.save(ctx, q, tx, actor, req, st, tables, "starting")
		return err
	})
	if err != nil {
		build.Close(context.Background())
		return 0, err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer build.Close(context.Background())
		s.measure(build, actor, id, st, req, tables, hypo)
	}()
	return id, nil
}

// Wait blocks until the real comparisons running in the background have finished.
func (s *Service) Wait() { s.wg.Wait() }

// inTx runs fn in a transaction on the pool, committed when fn returns nil.
func (s *Service) inTx(ctx context.Context, fn func(q *queries.Queries, tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after a commit, nothing to roll back
	if err := fn(queries.New(tx), tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// save writes a new comparison, running, and its audit row, through tx.
func (s *Service) save(ctx context.Context, q *queries.Queries, tx pgx.Tx, actor tally.Actor, req CompareRequest, st Statement, tables []Table, phase string) (int64, error) {
	params, err := json.Marshal(st.Params)
	if err != nil {
		return 0, err
	}
	cand, err := json.Marshal(req.Candidate)
	if err != nil {
		return 0, err
	}
	ddl := req.Candidate.Describe(tables)
	row, err := q.QueryComparisonInsert(ctx, queries.QueryComparisonInsertParams{
		QueryName: req.Input.Query, Statement: st.SQL, Params: params, Candidate: cand, CandidateDdl: ddl,
		Mode: req.Mode, Runs: int32(req.Runs), Phase: phase, RerunOf: nonZero(req.RerunOf), CreatedBy: nonZero(actor.ID),
	})
	if err != nil {
		return 0, err
	}
	query := req.Input.Query
	if query == "" {
		query = "(pasted statement)"
	}
	return row.ID, audit.Record(ctx, tx, audit.Entry{
		Actor: actor, Action: "query.compare", RecordType: audit.RecordQueryComparison, RecordID: row.ID, To: req.Mode,
		Detail: map[string]any{"mode": req.Mode, "query": query, "candidate": ddl, "runs": req.Runs, "rerun_of": req.RerunOf},
	})
}

// finish stores a comparison's plans and outcome through tx; for a real one it also records
// what was built and that it was dropped.
func (s *Service) finish(ctx context.Context, q *queries.Queries, tx pgx.Tx, actor tally.Actor, id int64, status string, planA, planB []byte, out Outcome, failure string, built bool) error {
	raw, err := json.Marshal(out)
	if err != nil {
		return err
	}
	var msg *string
	if failure != "" {
		msg = &failure
	}
	if _, err := q.QueryComparisonFinish(ctx, queries.QueryComparisonFinishParams{
		ID: id, Status: status, PlanA: nilIfEmpty(planA), PlanB: nilIfEmpty(planB), Outcome: raw, Error: msg,
	}); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // finished already
		}
		return err
	}
	if !built {
		return nil
	}
	return audit.Record(ctx, tx, audit.Entry{
		Actor: actor, Action: "query.index_build", RecordType: audit.RecordQueryComparison, RecordID: id, From: StatusRunning, To: status,
		Detail: map[string]any{"index": out.IndexName, "bytes": out.IndexBytes, "build_ms": out.BuildMS, "dropped": out.Dropped, "error": failure},
	})
}

// Get reads a saved comparison, with its plans parsed and its figures worked out, and the
// one it re-ran, if any.
func (s *Service) Get(ctx context.Context, id int64) (Comparison, error) {
	c, err := s.get(ctx, id)
	if err != nil || c.RerunOf == 0 {
		return c, err
	}
	earlier, err := s.get(ctx, c.RerunOf)
	if err != nil {
		return c, err
	}
	c.Earlier = &earlier
	return c, nil
}

func (s *Service) get(ctx context.Context, id int64) (Comparison, error) {
	r, err := s.q.QueryComparisonGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Comparison{}, tally.Errorf(tally.ENOTFOUND, "There is no comparison #%d.", id)
	} else if err != nil {
		return Comparison{}, err
	}
	c := Comparison{ID: r.ID, Query: r.QueryName, SQL: r.Statement, CandidateDDL: r.CandidateDdl, Mode: r.Mode,
		Runs: int(r.Runs), Status: r.Status, Phase: r.Phase, Progress: float64(r.Progress), CreatedBy: r.CreatedByEmail,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, FinishedAt: r.FinishedAt}
	if r.Error != nil {
		c.Error = *r.Error
	}
	if r.RerunOf != nil {
		c.RerunOf = *r.RerunOf
	}
	if c.Status == StatusRunning && time.Since(r.UpdatedAt) > abandonedAfter {
		c.Status = StatusAbandoned
		c.Error = "The process running this comparison stopped before it finished. Any candidate index it left is dropped by the next real comparison."
	}
	if err := json.Unmarshal(r.Params, &c.Params); err != nil {
		return c, err
	}
	if err := json.Unmarshal(r.Candidate, &c.Candidate); err != nil {
		return c, err
	}
	if len(r.Outcome) > 0 {
		if err := json.Unmarshal(r.Outcome, &c.Outcome); err != nil {
			return c, err
		}
	}
	for _, p := range []struct {
		raw []byte
		dst **Plan
	}{{r.PlanA, &c.PlanA}, {r.PlanB, &c.PlanB}} {
		if len(p.raw) > 0 {
			if *p.dst, err = ParsePlan(p.raw); err != nil {
				return c, err
			}
		}
	}
	if pr := c.Outcome.Prediction; pr != nil && c.Mode == ModeReal {
		if c.PredictedA, err = ParsePlan(pr.PlanA); err != nil {
			return c, err
		}
		if c.PredictedB, err = ParsePlan(pr.PlanB); err != nil {
			return c, err
		}
	}
	c.A, c.B = Summarize(c.Outcome.RunsA), Summarize(c.Outcome.RunsB)
	c.Pairs = Align(c.PlanA, c.PlanB)
	return c, nil
}

// ListPage is how many comparisons a page of the list shows.
const ListPage = 50

// List reads the saved comparisons, newest first, older than before (0: from the newest).
func (s *Service) List(ctx context.Context, before int64) ([]ComparisonLine, error) {
	rows, err := s.q.QueryComparisonList(ctx, queries.QueryComparisonListParams{Before: nonZero(before), RowLimit: ListPage})
	if err != nil {
		return nil, err
	}
	out := make([]ComparisonLine, len(rows))
	for i, r := range rows {
		l := ComparisonLine{ID: r.ID, Query: r.QueryName, CandidateDDL: r.CandidateDdl, Mode: r.Mode, Runs: int(r.Runs),
			Status: r.Status, CreatedBy: r.CreatedByEmail, CreatedAt: r.CreatedAt}
		if r.Status == StatusRunning && time.Since(r.UpdatedAt) > abandonedAfter {
			l.Status = StatusAbandoned
		}
		if r.Error != nil {
			l.Error = *r.Error
		}
		if r.RerunOf != nil {
			l.RerunOf = *r.RerunOf
		}
		var o Outcome
		if len(r.Outcome) > 0 && json.Unmarshal(r.Outcome, &o) == nil {
			l.Verdict = o.Verdict
		}
		out[i] = l
	}
	return out, nil
}

// Rerun repeats a saved comparison on today's data and indexes: the same statement,
// parameters, candidate and mode, saved as a new comparison that names the old one.
func (s *Service) Rerun(ctx context.Context, actor tally.Actor, id int64) (int64, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	in := Input{Query: c.Query, SQL: c.SQL}
	if _, ok := Lookup(c.Query); c.Query != "" && !ok {
		in.Query = "" // the catalogue no longer has it: run the saved text
	}
	for _, p := range c.Params {
		in.Values = append(in.Values, p.Display())
	}
	runs := c.Runs
	if runs == 0 {
		runs = DefaultRuns
	}
	return s.Compare(ctx, actor, CompareRequest{Input: in, Candidate: c.Candidate, Mode: c.Mode, Runs: runs, RerunOf: c.ID})
}

func nonZero(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
