package analysis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tally"
	"tally/internal/testdb"
	"tally/queries"
)

// A pasted statement that reads 300 of 30,000 reservations by a column no index covers.
var bySeats = Input{SQL: "SELECT id, amount_cents FROM reservations WHERE seats = $1", Values: []string{"7"}}

var seatsIndex = Candidate{Table: "reservations", Columns: []string{"seats"}}

func scanOf(p *Plan, rel string) *Node {
	for _, n := range p.Nodes {
		if n.Relation == rel {
			return n
		}
	}
	return nil
}

// indexScan is the node of p that reads an index, if any.
func indexScan(p *Plan) *Node {
	for _, n := range p.Nodes {
		if n.Index != "" {
			return n
		}
	}
	return &Node{}
}

func TestCompareHypothetical(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	s := newService(pool)
	ctx := context.Background()
	eng := engineer(t, pool)
	h, err := s.HypoPG(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Ready() {
		t.Fatalf("HypoPG is not ready in the test database: %s", h.Advice())
	}
	id, err := s.Compare(ctx, eng, CompareRequest{Input: bySeats, Candidate: seatsIndex, Mode: ModeHypothetical})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	a, b := scanOf(c.PlanA, "reservations"), indexScan(c.PlanB)
	if c.Status != StatusDone || a.Type != "Seq Scan" || !strings.Contains(b.Type, "Index") || !isHypothetical(b.Index) {
		t.Fatalf("status %s; A %s, B %s %s", c.Status, a.Type, b.Type, b.Index)
	}
	p := c.Outcome.Prediction
	if p == nil || !p.IndexUsed || p.CostB >= p.CostA || p.IndexBytes <= 0 || !strings.Contains(c.Outcome.Verdict, "would use the candidate") {
		t.Errorf("prediction %+v, verdict %q", p, c.Outcome.Verdict)
	}
	if c.CandidateDDL != `"reservations" ("seats")` || c.Params[0].Name != "$1" || c.Params[0].Display() != "7" || c.CreatedBy != eng.Email {
		t.Errorf("saved: %q %+v %q", c.CandidateDDL, c.Params, c.CreatedBy)
	}
	changed := false
	for _, pair := range c.Pairs {
		changed = changed || pair.Changed && pair.A != nil && pair.B != nil && pair.A.Relation == "reservations"
	}
	if !changed {
		t.Errorf("the aligned nodes do not show the scan changing: %+v", c.Pairs)
	}
	var audited int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'query.compare' AND record_id = $1 AND actor = $2", id, eng.Email).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("%d audit rows (%v)", audited, err)
	}
	// Nothing was built.
	var indexes int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE tablename = 'reservations' AND indexdef LIKE '%(seats)%'").Scan(&indexes); err != nil || indexes != 0 {
		t.Errorf("%d indexes on seats (%v)", indexes, err)
	}
	list, err := s.List(ctx, 0)
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Verdict == "" {
		t.Errorf("list %+v (%v)", list, err)
	}
}

// TestCompareReal builds the candidate for real: the plan changes from a scan to an index
// scan, both sides are measured, and the index is gone afterwards, with the build audited.
func TestCompareReal(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	s := newService(pool)
	ctx := context.Background()
	eng := engineer(t, pool)
	id, err := s.Compare(ctx, eng, CompareRequest{Input: bySeats, Candidate: seatsIndex, Mode: ModeReal, Runs: 6})
	if err != nil {
		t.Fatal(err)
	}
	running, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	s.Wait()
	c, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if running.Status != StatusRunning && running.Status != StatusDone {
		t.Errorf("while running: %s", running.Status)
	}
	if c.Status != StatusDone {
		t.Fatalf("status %s: %s", c.Status, c.Error)
	}
	a, b := scanOf(c.PlanA, "reservations"), indexScan(c.PlanB)
	if a.Type != "Seq Scan" || !strings.Contains(b.Type, "Index") || b.Index != "tally_candidate_"+itoa(id) {
		t.Errorf("A %s, B %s %s", a.Type, b.Type, b.Index)
	}
	o := c.Outcome
	if len(o.RunsA) != 6 || len(o.RunsB) != 6 || !o.IndexUsed || !o.Dropped || o.IndexBytes <= 0 || o.BuildMS <= 0 {
		t.Errorf("outcome: %d/%d runs, used %v, dropped %v, %d bytes, %v ms", len(o.RunsA), len(o.RunsB), o.IndexUsed, o.Dropped, o.IndexBytes, o.BuildMS)
	}
	if c.A.P50 <= 0 || c.B.P50 <= 0 || c.A.P99 < c.A.P50 || c.A.HitPerRun <= c.B.HitPerRun {
		t.Errorf("stats A %+v, B %+v", c.A, c.B)
	}
	if o.Prediction == nil || !o.Prediction.IndexUsed || c.PredictedB == nil {
		t.Errorf("prediction %+v", o.Prediction)
	}
	seqs := map[int]bool{}
	for _, r := range append(append([]Run(nil), o.RunsA...), o.RunsB...) {
		seqs[r.Seq] = true
	}
	if len(seqs) != 12 || o.Verdict == "" {
		t.Errorf("run sequence %v, verdict %q", seqs, o.Verdict)
	}
	if _, err := queries.New(pool).QueryAnalysisIndexState(ctx, o.IndexName); !errors.Is(err, pgx.ErrNoRows) {
		t.Errorf("the candidate index is still there (%v)", err)
	}
	var actions []string
	rows, _ := pool.Query(ctx, "SELECT action FROM audit_events WHERE record_type = 'query_comparison' AND record_id = $1 ORDER BY id", id)
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	if strings.Join(actions, ",") != "query.compare,query.index_build" {
		t.Errorf("audit: %v", actions)
	}
}

// TestRealComparisonsOneAtATime: while one real comparison holds the build lock, another is
// refused with a sentence, and nothing is saved for it.
func TestRealComparisonsOneAtATime(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	s := newService(pool)
	ctx := context.Background()
	eng := engineer(t, pool)
	holder, err := s.openBuildSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	if ok, err := queries.New(holder).QueryAnalysisBuildLock(ctx); err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	_, err = s.Compare(ctx, eng, CompareRequest{Input: bySeats, Candidate: seatsIndex, Mode: ModeReal, Runs: 2})
	if code(err) != tally.ECONFLICT || !strings.Contains(tally.ErrorMessage(err), "Another real comparison") {
		t.Errorf("second build: %v", err)
	}
	if list, _ := s.List(ctx, 0); len(list) != 0 {
		t.Errorf("saved %+v", list)
	}
}

// TestFailedBuildIsCleanedUp: a build stopped by its timeout leaves an INVALID index, which
// is dropped; the comparison says why. A candidate left by a dead process is dropped by the
// next comparison.
func TestFailedBuildIsCleanedUp(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	testdb.AllowErrors(t, "57014") // the build's statement timeout, on purpose
	ctx := context.Background()
	eng := engineer(t, pool)
	// A leftover, as a process that died mid-comparison would leave it.
	if _, err := pool.Exec(ctx, "CREATE INDEX tally_candidate_999999 ON reservations (amount_cents)"); err != nil {
		t.Fatal(err)
	}
	s := NewService(pool, Config{BuildTimeout: time.Millisecond})
	id, err := s.Compare(ctx, eng, CompareRequest{Input: bySeats, Candidate: seatsIndex, Mode: ModeReal, Runs: 2})
	if err != nil {
		t.Fatal(err)
	}
	s.Wait()
	c, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != StatusFailed || !strings.Contains(c.Error, "could not be built") || !c.Outcome.Dropped {
		t.Errorf("status %s, error %q, dropped %v", c.Status, c.Error, c.Outcome.Dropped)
	}
	left, err := queries.New(pool).QueryAnalysisCandidateIndexes(ctx)
	if err != nil || len(left) != 0 {
		t.Errorf("candidate indexes left: %+v (%v)", left, err)
	}
	var audited int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'query.index_build' AND record_id = $1 AND to_status = 'failed'", id).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("%d audit rows for the failed build (%v)", audited, err)
	}
}

func TestCandidateIsBuiltFromChoices(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	s := newService(pool)
	tables, err := s.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tb := range tables {
		names[tb.Name] = true
	}
	for _, want := range []string{"reservations", "slots", "customers", "audit_events", "river_job"} {
		if !names[want] {
			t.Errorf("no table %s among %v", want, names)
		}
	}
	for _, never := range []string{"users", "sessions", "idempotency_keys", "login_attempts", "query_comparisons", "password_links"} {
		if names[never] {
			t.Errorf("table %s is offered", never)
		}
	}
	good := Candidate{Table: "reservations", Columns: []string{"slot_id", "created_at"}, Include: []string{"amount_cents"}, Predicate: "status=held"}
	if err := good.Validate(tables); err != nil {
		t.Fatal(err)
	}
	if ddl := good.DDL(tables, "tally_candidate_7"); ddl != `CREATE INDEX CONCURRENTLY "tally_candidate_7" ON "reservations" ("slot_id", "created_at") INCLUDE ("amount_cents") WHERE "status" = 'held'` {
		t.Errorf("DDL %s", ddl)
	}
	for _, bad := range []Candidate{
		{Table: "users", Columns: []string{"email"}},
		{Table: "reservations", Columns: []string{"seats); DROP TABLE reservations; --"}},
		{Table: "reservations"},
		{Table: "reservations", Columns: []string{"seats", "seats"}},
		{Table: "reservations", Columns: []string{"seats"}, Predicate: "1=1"},
		{Table: "reservations", Columns: []string{"a", "b", "c", "d", "e"}},
		{Table: "audit_events", Columns: []string{"detail"}, Predicate: "status=held"},
	} {
		if err := bad.Validate(tables); code(err) != tally.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if name := (Candidate{Table: "reservations", Columns: []string{"customer_id", "id"}}).Repeats(tables); name != "reservations_customer_id_idx" {
		t.Errorf("repeats %q", name)
	}
}

func TestAlign(t *testing.T) {
	t.Parallel()
	a := mustParse(t, `[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Sort", "Plans": [{"Node Type": "Hash Join", "Join Type": "Inner", "Plans": [
		{"Node Type": "Seq Scan", "Relation Name": "reservations", "Alias": "r"},
		{"Node Type": "Hash", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "slots", "Alias": "s"}]}]}]}]}, "Planning Time": 1}]`)
	b := mustParse(t, `[{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Nested Loop", "Join Type": "Inner", "Plans": [
		{"Node Type": "Index Scan", "Relation Name": "reservations", "Alias": "r", "Index Name": "r_idx"},
		{"Node Type": "Index Scan", "Relation Name": "slots", "Alias": "s", "Index Name": "slots_pkey"}]}]}, "Planning Time": 1}]`)
	pairs := Align(a, b)
	var got []string
	for _, p := range pairs {
		x, y := "-", "-"
		if p.A != nil {
			x = p.A.Type
		}
		if p.B != nil {
			y = p.B.Type
		}
		got = append(got, x+"|"+y)
	}
	want := "Limit|Limit,Sort|-,Hash Join|Nested Loop,Seq Scan|Index Scan,Hash|-,Seq Scan|Index Scan"
	if strings.Join(got, ",") != want {
		t.Errorf("aligned:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
	if !pairs[3].Changed || pairs[0].Changed || SameShape(a, b) || !SameShape(a, a) {
		t.Errorf("changed: %+v", pairs)
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	var runs []Run
	for i := 1; i <= 100; i++ {
		runs = append(runs, Run{Seq: i, MS: float64(i), Hit: 10})
	}
	s := Summarize(runs)
	if s.N != 100 || !near(s.P50, 50.5) || !near(s.P95, 95.05) || !near(s.P99, 99.01) || s.Min != 1 || s.Max != 100 || s.HitPerRun != 10 {
		t.Errorf("%+v", s)
	}
	if one := Summarize([]Run{{MS: 3}}); one.P50 != 3 || one.P99 != 3 {
		t.Errorf("%+v", one)
	}
}
