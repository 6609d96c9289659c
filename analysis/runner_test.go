package analysis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tally"
	"tally/internal/testdb"
)

// TestCatalogueRuns explains every catalogue query with the parameters its page opens with:
// sqlc's text runs under the analysis role, its parameters are the ones the catalogue names
// (count and types, from PostgreSQL's own description), and the plan parses.
func TestCatalogueRuns(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	s := newService(pool)
	ctx := context.Background()
	sample, err := s.Sample(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sample.BusySlotN <= sample.QuietSlotN || sample.CommonStatus != "settled" {
		t.Errorf("sample: busy slot %d (%d), quiet %d (%d), common status %q", sample.BusySlot, sample.BusySlotN, sample.QuietSlot, sample.QuietSlotN, sample.CommonStatus)
	}
	for _, q := range Catalogue() {
		sets := q.ParamSets(sample, time.Now())
		res, err := s.Explain(ctx, Input{Query: q.Name, Values: sets[0].Values}, Options{Analyze: true, Timing: true})
		if q.Refused != "" {
			if code(err) != tally.EUNPROCESSABLE {
				t.Errorf("%s reads users: %v, want refused", q.Name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", q.Name, err)
			continue
		}
		if len(res.Statement.Params) != len(q.Args) {
			t.Errorf("%s: PostgreSQL says %d parameters, the catalogue names %d", q.Name, len(res.Statement.Params), len(q.Args))
			continue
		}
		for i, p := range res.Statement.Params {
			if p.Name != q.Args[i].Name || !sameType(p.Type, q.Args[i].Type) {
				t.Errorf("%s $%d: PostgreSQL has %s %s, the catalogue %s %s", q.Name, i+1, p.Name, p.Type, q.Args[i].Name, q.Args[i].Type)
			}
		}
		if !res.Plan.Analyzed || !res.Plan.Timed || res.Plan.ExecutionMS <= 0 || res.Plan.Root == nil {
			t.Errorf("%s: plan not analysed: %+v", q.Name, res.Plan)
		}
		// Every other parameter set runs too.
		for _, set := range sets[1:] {
			if _, err := s.Explain(ctx, Input{Query: q.Name, Values: set.Values}, Options{Analyze: true}); err != nil {
				t.Errorf("%s with %s: %v", q.Name, set.Label, err)
			}
		}
	}
}

// sameType says whether PostgreSQL's type for a parameter is the one the Go code sends, or
// one it converts to without loss (a LIMIT is bigint; sqlc passes an int32).
func sameType(pg, goType string) bool {
	whole := map[string]bool{"smallint": true, "integer": true, "bigint": true}
	return pg == goType || whole[pg] && whole[goType]
}

// TestExplainReadsTheDatabase checks the parsed plan of a statement whose plan is known: a
// filtered scan of reservations joined to slots and sorted, run with parameters.
func TestExplainReadsTheDatabase(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	s := newService(pool)
	res, err := s.Explain(context.Background(), Input{
		SQL: `SELECT r.id, s.starts_at FROM reservations r JOIN slots s ON s.id = r.slot_id
		      WHERE r.seats = $1 AND r.status = $2 ORDER BY r.amount_cents DESC, r.id`,
		Values: []string{"7", "settled"},
	}, Options{Analyze: true, Timing: true, Verbose: true, Settings: true})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Plan
	if got := []string{res.Statement.Params[0].Type, res.Statement.Params[1].Type}; got[0] != "integer" || got[1] != "text" {
		t.Errorf("parameter types %v", got)
	}
	var scan *Node
	for _, n := range p.Nodes {
		if n.Relation == "reservations" {
			scan = n
		}
	}
	if scan == nil {
		t.Fatalf("no scan of reservations in\n%s", p.Text())
	}
	// 30,000 rows, seats 1..100 evenly (and 7 seats always settled): 300 rows come out.
	if scan.Type != "Seq Scan" || scan.TotalRows() != 300 || scan.RowsRemovedByFilter*scan.Loops != 30000-300 {
		t.Errorf("scan: %s, %v rows, %v removed", scan.Type, scan.TotalRows(), scan.RowsRemovedByFilter)
	}
	if !strings.Contains(scan.Filter, "seats = 7") || scan.Buffers.Total() == 0 || scan.Alias != "r" || len(scan.Output) == 0 {
		t.Errorf("scan details: filter %q, buffers %+v, alias %q, output %v", scan.Filter, scan.Buffers, scan.Alias, scan.Output)
	}
	if p.Root.Type != "Sort" || p.Root.SortMethod == "" || p.Root.SortSpaceType != "Memory" || len(p.Root.SortKey) != 2 {
		t.Errorf("root: %s, sort %q %q %v", p.Root.Type, p.Root.SortMethod, p.Root.SortSpaceType, p.Root.SortKey)
	}
	if p.PlanningMS <= 0 || p.ExecutionMS <= 0 || p.Root.InclusiveMS <= 0 {
		t.Errorf("times: planning %v, execution %v, root %v", p.PlanningMS, p.ExecutionMS, p.Root.InclusiveMS)
	}
	var sum float64
	for _, n := range p.Nodes {
		sum += n.ExclusiveMS
	}
	if d := sum - p.Root.InclusiveMS; d > 0.01 || d < -0.01 {
		t.Errorf("exclusive times add up to %v, the root's inclusive time is %v", sum, p.Root.InclusiveMS)
	}
	hinted := false
	for _, h := range p.Hints {
		hinted = hinted || h.Kind == "seq-scan-filter" && h.NodeID == scan.ID
	}
	if !hinted {
		t.Errorf("no hint for the scan that removes 99%% of 30,000 rows: %+v", p.Hints)
	}
	if !strings.Contains(p.Text(), "Seq Scan on reservations r") || !strings.Contains(p.Text(), "Execution Time:") {
		t.Errorf("text form:\n%s", p.Text())
	}
}

// TestExplainNeedsParams: a pasted statement with $n and no values gets its parameters back
// for the form, typed.
func TestExplainNeedsParams(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	s := newService(pool)
	_, err := s.Explain(context.Background(), Input{SQL: "SELECT * FROM reservations WHERE slot_id = $1 AND created_at > $2"}, Options{Analyze: true})
	var need *NeedParams
	if !errors.As(err, &need) || len(need.Params) != 2 || need.Params[0].Type != "bigint" || need.Params[1].Type != "timestamptz" {
		t.Fatalf("%v %+v", err, need)
	}
	_, err = s.Explain(context.Background(), Input{SQL: "SELECT * FROM reservations WHERE slot_id = $1", Values: []string{"many"}}, Options{Analyze: true})
	if code(err) != tally.EINVALID || !strings.Contains(tally.ErrorMessage(err), "whole number") {
		t.Errorf("a word for a bigint: %v", err)
	}
}

// TestUnsafeStatementsAreRefused runs every kind of statement that must not run, and checks
// each is refused (or stopped) with a sentence that says so, and the tables are unchanged.
func TestUnsafeStatementsAreRefused(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	// What PostgreSQL refuses on purpose here: writes in a read-only transaction, tables the
	// role may not read, the statement timeout, a second statement, a rule on a data-modifying WITH.
	testdb.AllowErrors(t, "25006", "42501", "57014", "42601", "0A000")
	s := NewService(pool, Config{Timeout: 500 * time.Millisecond})
	before := tableCounts(t, pool)
	id := "(SELECT max(id) FROM reservations)"
	cases := []struct {
		name, sql, want string
	}{
		{"delete", "DELETE FROM reservations", "DELETE is not a read-only statement"},
		{"update", "UPDATE reservations SET seats = seats + 1", "UPDATE is not a read-only statement"},
		{"insert", "INSERT INTO customers (name, email) VALUES ('x', 'x@example.com')", "INSERT is not a read-only statement"},
		{"for update", "SELECT * FROM reservations WHERE id = " + id + " FOR UPDATE", "FOR UPDATE locks"},
		{"for share", "SELECT * FROM reservations FOR NO KEY UPDATE SKIP LOCKED", "FOR NO locks"},
		{"two statements", "SELECT 1; DELETE FROM reservations", "one statement at a time"},
		{"data-modifying CTE", "WITH gone AS (DELETE FROM reservations RETURNING id) SELECT count(*) FROM gone", "data-modifying WITH"},
		{"sleep", "SELECT pg_sleep(60)", "ran past its 500ms timeout"},
		{"nextval", "SELECT nextval('reservations_id_seq')", "Refused"},
		{"set_config", "SELECT set_config('role', 'none', true), count(*) FROM reservations", "set_config changes the session's settings"},
		{"advisory lock", "SELECT pg_advisory_lock(7261000)", "outlives the transaction"},
		{"query_to_xml", "SELECT query_to_xml('SELECT * FROM users', true, false, '')", "runs SQL given as text"},
		{"users", "SELECT email, password_hash FROM users", "permission denied for table users"},
		{"sessions", "SELECT * FROM sessions", "permission denied for table sessions"},
		{"idempotency keys", "SELECT * FROM idempotency_keys", "permission denied for table idempotency_keys"},
		{"users in a subquery", "SELECT (SELECT count(*) FROM users) FROM reservations LIMIT 1", "permission denied for table users"},
		{"explain", "EXPLAIN ANALYZE DELETE FROM reservations", "without EXPLAIN"},
		{"unicode escape", `SELECT U&"\0073et_config"('role', 'none', true)`, "Unicode escapes"},
		{"copy", "COPY reservations TO STDOUT", "COPY is not a read-only statement"},
	}
	for _, c := range cases {
		_, err := s.Explain(context.Background(), Input{SQL: c.sql}, Options{Analyze: true})
		if err == nil {
			t.Errorf("%s: ran", c.name)
			continue
		}
		if code := tally.ErrorCode(err); code == tally.EINTERNAL || !strings.Contains(tally.ErrorMessage(err), c.want) {
			t.Errorf("%s: %s %q, want a message with %q", c.name, code, tally.ErrorMessage(err), c.want)
		}
		if after := tableCounts(t, pool); after != before {
			t.Fatalf("%s changed the tables: %s → %s", c.name, before, after)
		}
	}
	// No advisory lock was left behind by anything above (in this database: pg_locks shows
	// the whole cluster's, and other tests' transactions take theirs).
	var locks int
	if err := pool.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&locks); err != nil || locks != 0 {
		t.Errorf("%d advisory locks held (%v)", locks, err)
	}
}

// TestDatabaseRefusesWhatTheCheckMisses runs unsafe statements past CheckStatement, straight
// into the session: the read-only transaction, the role, the timeout and the extended protocol
// hold on their own.
func TestDatabaseRefusesWhatTheCheckMisses(t *testing.T) {
	t.Parallel()
	pool := seeded(t)
	testdb.AllowErrors(t, "25006", "42501", "57014", "42601", "0A000")
	s := NewService(pool, Config{Timeout: 300 * time.Millisecond})
	before := tableCounts(t, pool)
	ctx := context.Background()
	cases := []struct {
		name, sql, want string
	}{
		{"delete", "DELETE FROM reservations", "cannot execute DELETE in a read-only transaction"},
		{"update", "UPDATE reservations SET seats = 1", "cannot execute UPDATE in a read-only transaction"},
		{"insert", "INSERT INTO resources (name, kind) VALUES ('x', 'y')", "cannot execute INSERT in a read-only transaction"},
		{"for update", "SELECT * FROM reservations FOR UPDATE", "Refused"},
		{"data-modifying CTE", "WITH gone AS (UPDATE slots SET reserved = 0 RETURNING id) SELECT count(*) FROM gone", "read-only"},
		{"two statements", "SELECT 1; SELECT 2", "one statement at a time"},
		{"sleep", "SELECT pg_sleep(60)", "ran past"},
		{"nextval", "SELECT nextval('reservations_id_seq')", "Refused"},
		{"users", "SELECT * FROM users", "permission denied for table users"},
		{"sessions", "SELECT * FROM sessions", "permission denied for table sessions"},
		{"pg_settings rule", "WITH x AS (UPDATE pg_settings SET setting = 'none' WHERE name = 'role' RETURNING 1) SELECT 1", "Refused"},
	}
	for _, c := range cases {
		ss, err := s.openSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = ss.readOnly(ctx, 300*time.Millisecond, func(tx pgx.Tx) error {
			_, err := explain(ctx, tx, c.sql, nil, nil, Options{Analyze: true})
			return runError(err, 300*time.Millisecond)
		})
		ss.close()
		if err == nil || !strings.Contains(tally.ErrorMessage(err), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if after := tableCounts(t, pool); after != before {
			t.Fatalf("%s changed the tables: %s → %s", c.name, before, after)
		}
	}
}

// TestNotAMemberIsToldWhatToGrant: when the application's user could not be made a member of
// the analysis role (the migration lacked the right), the console says what a superuser must
// grant, rather than failing with an internal error.
func TestNotAMemberIsToldWhatToGrant(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	testdb.AllowErrors(t, "42501") // SET ROLE refused, on purpose
	ctx := context.Background()
	name := "tally_test_outsider_" + strings.ReplaceAll(itoa(time.Now().UnixNano()), "-", "")
	if _, err := pool.Exec(ctx, "CREATE ROLE "+name+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Exec(context.Background(), "DROP ROLE IF EXISTS "+name) }) //nolint:errcheck // a leftover role owns nothing
	cfg := pool.Config().Copy()
	cfg.ConnConfig.User = name
	outsider, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer outsider.Close()
	if err := outsider.Ping(ctx); err != nil {
		t.Skipf("cannot connect as a new role with DATABASE_URL's settings (a password is needed?): %v", err)
	}
	_, err = NewService(outsider, Config{}).Explain(ctx, Input{SQL: "SELECT 1"}, Options{Analyze: true})
	if code(err) != tally.EUNPROCESSABLE || !strings.Contains(tally.ErrorMessage(err), "GRANT tally_query_analysis TO \""+name+"\"") {
		t.Errorf("%v", err)
	}
}
