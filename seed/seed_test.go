package seed_test

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"tally/internal/testdb"
	"tally/jobs"
	"tally/seed"
)

func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	sum, err := seed.Run(ctx, pool, seed.Options{Random: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Reservations != 600 || sum.Resources == 0 || sum.Slots == 0 || sum.Customers == 0 {
		t.Fatalf("demo seed: %+v", sum)
	}
	if got := count("SELECT count(DISTINCT status) FROM reservations"); got != 6 {
		t.Errorf("%d statuses seeded, want all 6", got)
	}
	if got := count("SELECT count(*) FROM slots WHERE starts_at > now()"); got == 0 {
		t.Error("no upcoming slots")
	}
	// The slots' reserved seats are exactly the seats of their live reservations.
	if got := count(`SELECT count(*) FROM slots s WHERE s.reserved <> (SELECT coalesce(sum(seats), 0) FROM reservations r
		WHERE r.slot_id = s.id AND r.status IN ('held', 'approved', 'settled'))`); got != 0 {
		t.Errorf("%d slots whose reserved count disagrees with their reservations", got)
	}
	if got := count("SELECT count(*) FROM reservations r WHERE status = 'settled' AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.reservation_id = r.id)"); got != 0 {
		t.Errorf("%d settled reservations without ledger postings", got)
	}
	if got := count("SELECT count(*) FROM reservations WHERE status = 'held' AND hold_expires_at <= now()"); got != 0 {
		t.Errorf("%d held reservations already past their hold", got)
	}

	again, err := seed.Run(ctx, pool, seed.Options{Random: 2})
	if err != nil || again.Reservations != 0 {
		t.Errorf("a second demo seed added %+v, %v; want nothing", again, err)
	}

	var progress bytes.Buffer
	more, err := seed.Run(ctx, pool, seed.Options{Reservations: 20_000, Progress: &progress, Random: 3})
	if err != nil || more.Reservations != 20_000 {
		t.Fatalf("volume seed: %+v, %v", more, err)
	}
	if !strings.Contains(progress.String(), "20000 / 20000 (100%)") {
		t.Errorf("progress: %q", progress.String())
	}
	if got := count("SELECT count(*) FROM slots WHERE reserved > capacity"); got != 0 {
		t.Errorf("%d oversold slots", got)
	}
	// Skewed: the busiest tenth of the customers hold far more than a tenth of the reservations.
	if got := count(`SELECT (100 * sum(n) FILTER (WHERE rank <= total / 10) / sum(n))::int FROM (
		SELECT count(*) AS n, row_number() OVER (ORDER BY count(*) DESC) AS rank, count(*) OVER () AS total
		FROM reservations GROUP BY customer_id) c`); got < 30 {
		t.Errorf("the busiest tenth of customers hold %d%% of the reservations; want a skew (≥ 30%%)", got)
	}
}

// schema describes what a seed takes off and puts back: every index and constraint of the
// seeded tables and those pointing at them, with its definition and whether it is valid,
// and every trigger with whether it is enabled.
func schema(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		WITH seeded AS (SELECT unnest(ARRAY['customers', 'slots', 'reservations', 'ledger_entries', 'river_job'])::regclass AS oid)
		SELECT format('index %s on %s: %s valid=%s', x.indexrelid::regclass, x.indrelid::regclass, pg_get_indexdef(x.indexrelid), x.indisvalid)
		FROM pg_index x WHERE x.indrelid IN (SELECT oid FROM seeded)
		UNION ALL
		SELECT format('constraint %s on %s: %s validated=%s', k.conname, k.conrelid::regclass, pg_get_constraintdef(k.oid), k.convalidated)
		FROM pg_constraint k WHERE k.conrelid IN (SELECT oid FROM seeded) OR k.confrelid IN (SELECT oid FROM seeded)
		UNION ALL
		SELECT format('trigger %s on %s: %s enabled=%s', t.tgname, t.tgrelid::regclass, pg_get_triggerdef(t.oid), t.tgenabled)
		FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM seeded) AND NOT t.tgisinternal
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// consistent checks what must hold of seeded data however it was loaded.
func consistent(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, c := range []struct{ what, sql string }{
		{"oversold slots", "SELECT count(*) FROM slots WHERE reserved > capacity"},
		{"slots whose reserved seats are not those of their live reservations", `SELECT count(*) FROM slots s
			WHERE s.reserved <> (SELECT coalesce(sum(seats), 0) FROM reservations r WHERE r.slot_id = s.id AND r.status IN ('held', 'approved', 'settled'))`},
		{"settled reservations without exactly one settlement", `SELECT count(*) FROM reservations r WHERE r.status = 'settled'
			AND (SELECT count(DISTINCT txn_id) FROM ledger_entries l WHERE l.reservation_id = r.id) <> 1`},
		{"ledger entries of reservations not settled", `SELECT count(*) FROM ledger_entries l JOIN reservations r ON r.id = l.reservation_id
			WHERE r.status <> 'settled'`},
		{"ledger transactions of more than one reservation", "SELECT count(*) FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING count(DISTINCT reservation_id) > 1) t"},
		{"ledger transactions that do not balance", "SELECT count(*) FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING sum(amount_cents) <> 0) t"},
		{"settlements whose revenue is not the reservation's amount", `SELECT count(*) FROM ledger_entries l JOIN reservations r ON r.id = l.reservation_id
			WHERE l.account = 'revenue' AND l.amount_cents <> -r.amount_cents`},
		{"settlements whose fee is not 2.9 % of the amount", `SELECT count(*) FROM ledger_entries l JOIN reservations r ON r.id = l.reservation_id
			WHERE l.account = 'fees' AND l.amount_cents <> (r.amount_cents * 290 + 5000) / 10000`},
		{"reservations of customers or slots that do not exist", `SELECT count(*) FROM reservations r
			WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = r.customer_id) OR NOT EXISTS (SELECT 1 FROM slots s WHERE s.id = r.slot_id)`},
		{"held reservations already past their hold", "SELECT count(*) FROM reservations WHERE status = 'held' AND hold_expires_at <= now()"},
		// The counts the reservations list shows, where they are kept.
		{"resources and statuses whose kept count is wrong", `SELECT CASE WHEN to_regclass('reservation_counts') IS NULL THEN 0 ELSE (
			SELECT count(*) FROM (SELECT resource_id, status, sum(reservations) AS n FROM reservation_counts GROUP BY 1, 2 HAVING sum(reservations) <> 0) k
			FULL JOIN (SELECT s.resource_id, r.status, count(*) AS n FROM reservations r JOIN slots s ON s.id = r.slot_id GROUP BY 1, 2) c
			USING (resource_id, status) WHERE k.n IS DISTINCT FROM c.n) END`},
	} {
		var n int
		if err := pool.QueryRow(context.Background(), c.sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, c.what)
		}
	}
}

// A volume seed as large as the data there rebuilds the indexes and keys it took off for the
// load; a smaller one adds to the tables as they are. Either way the data is consistent and
// every index, key and trigger is there as before, with the same definition.
func TestSeedVolumeKeepsSchemaAndData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	before := schema(t, pool)

	if _, err := seed.Run(ctx, pool, seed.Options{Random: 10}); err != nil { // the demo first
		t.Fatal(err)
	}
	consistent(t, pool)
	var progress bytes.Buffer
	sum, err := seed.Run(ctx, pool, seed.Options{Reservations: 30_000, Progress: &progress, Random: 11})
	if err != nil || sum.Reservations != 30_000 || sum.LedgerEntries == 0 {
		t.Fatalf("bulk seed: %+v, %v", sum, err)
	}
	if !strings.Contains(progress.String(), "rebuilt") {
		t.Errorf("a seed much larger than the tables did not rebuild their indexes: %q", progress.String())
	}
	if after := schema(t, pool); !slices.Equal(before, after) {
		t.Errorf("the schema changed with a bulk seed:\nbefore %q\nafter  %q", before, after)
	}
	consistent(t, pool)

	progress.Reset()
	more, err := seed.Run(ctx, pool, seed.Options{Reservations: 5_000, Progress: &progress, Random: 12})
	if err != nil || more.Reservations != 5_000 {
		t.Fatalf("second seed: %+v, %v", more, err)
	}
	if strings.Contains(progress.String(), "rebuilt") {
		t.Errorf("a seed smaller than the table rebuilt its indexes: %q", progress.String())
	}
	if after := schema(t, pool); !slices.Equal(before, after) {
		t.Errorf("the schema changed with a second seed:\nbefore %q\nafter  %q", before, after)
	}
	consistent(t, pool)
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM reservations").Scan(&n); err != nil || n != 35_600 {
		t.Errorf("%d reservations after seeding the demo's 600, 30,000 and 5,000 (%v)", n, err)
	}
}

// An index or a key added by a later migration (or by hand) is taken off and put back like
// the others, with its definition and its comment.
func TestSeedKeepsIndexesItDoesNotKnow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	for _, sql := range []string{
		"CREATE INDEX reservations_lower_currency_idx ON reservations (lower(currency), id DESC) WHERE seats > 1",
		"COMMENT ON INDEX reservations_lower_currency_idx IS 'a test''s index'",
		"CREATE TABLE reservation_notes (reservation_id bigint NOT NULL, note text)",
		"ALTER TABLE reservation_notes ADD CONSTRAINT reservation_notes_reservation_fkey FOREIGN KEY (reservation_id) REFERENCES reservations (id) ON DELETE CASCADE DEFERRABLE",
		"CREATE UNIQUE INDEX customers_lower_email_idx ON customers (lower(email))",
		"COMMENT ON TRIGGER ledger_entries_balanced ON ledger_entries IS 'postings balance'",
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	before := schema(t, pool)
	var progress bytes.Buffer
	if _, err := seed.Run(ctx, pool, seed.Options{Reservations: 10_000, Progress: &progress, Random: 13}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "rebuilt") {
		t.Fatalf("no bulk load: %q", progress.String())
	}
	if after := schema(t, pool); !slices.Equal(before, after) {
		t.Errorf("the schema changed:\nbefore %q\nafter  %q", before, after)
	}
	var comment string
	if err := pool.QueryRow(ctx, "SELECT obj_description('reservations_lower_currency_idx'::regclass, 'pg_class')").Scan(&comment); err != nil || comment != "a test's index" {
		t.Errorf("the index's comment is %q (%v)", comment, err)
	}
	if err := pool.QueryRow(ctx, `SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger WHERE tgname = 'ledger_entries_balanced'`).Scan(&comment); err != nil || comment != "postings balance" {
		t.Errorf("the balance trigger's comment is %q (%v)", comment, err)
	}
	var deferrable bool
	if err := pool.QueryRow(ctx, "SELECT condeferrable FROM pg_constraint WHERE conname = 'reservation_notes_reservation_fkey'").Scan(&deferrable); err != nil || !deferrable {
		t.Errorf("the foreign key pointing at reservations is not deferrable any more (%v)", err)
	}
}

// The finished jobs are River's: its client reads them back, of Tally's kinds on their
// queues, about reservations that exist, mostly completed, the failed ones with the errors
// of their attempts.
func TestSeedFinishedJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	before := schema(t, pool)
	if _, err := seed.Run(ctx, pool, seed.Options{Reservations: 5_000, Random: 21}); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	sum, err := seed.Run(ctx, pool, seed.Options{FinishedJobs: 20_000, Progress: &progress, Random: 22})
	if err != nil || sum.FinishedJobs != 20_000 || sum.Reservations != 0 {
		t.Fatalf("jobs seed: %+v, %v", sum, err)
	}
	if after := schema(t, pool); !slices.Equal(before, after) {
		t.Errorf("the schema changed:\nbefore %q\nafter  %q", before, after)
	}

	count := func(sql string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count("SELECT count(*) FROM river_job WHERE state IN ('completed', 'cancelled', 'discarded') AND finalized_at <= now()"); got != 20_000 {
		t.Errorf("%d finished jobs, want 20000", got)
	}
	if got := count("SELECT 100 * count(*) FILTER (WHERE state = 'completed') / count(*) FROM river_job"); got < 75 || got == 100 {
		t.Errorf("%d%% of the jobs completed; want most, not all", got)
	}
	if got := count(`SELECT count(*) FROM river_job j WHERE j.kind IN ('notify_customer', 'partner_payout')
		AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = (j.args->>'reservation_id')::bigint AND r.id = (j.metadata->>'reservation_id')::bigint)`); got != 0 {
		t.Errorf("%d jobs about reservations that do not exist", got)
	}
	if got := count(`SELECT count(*) FROM river_job j JOIN reservations r ON r.id = (j.args->>'reservation_id')::bigint
		WHERE j.kind = 'partner_payout' AND r.status <> 'settled'`); got != 0 {
		t.Errorf("%d payouts of reservations not settled", got)
	}
	if got := count("SELECT count(*) FROM river_job WHERE state IN ('discarded', 'cancelled') AND coalesce(cardinality(errors), 0) = 0"); got != 0 {
		t.Errorf("%d failed jobs without an error", got)
	}
	if got := count("SELECT count(*) FROM river_job WHERE state = 'discarded' AND attempt <> max_attempts"); got != 0 {
		t.Errorf("%d discarded jobs that had attempts left", got)
	}

	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	queues := map[string]string{}
	for _, a := range []interface {
		river.JobArgs
		InsertOpts() river.InsertOpts
	}{jobs.NotifyCustomerArgs{}, jobs.PartnerPayoutArgs{}, jobs.ExpireHoldsArgs{}, jobs.PurgeArgs{}, jobs.SettlementReportArgs{}} {
		queues[a.Kind()] = cmp.Or(a.InsertOpts().Queue, river.QueueDefault)
	}
	finished := []rivertype.JobState{rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded}
	for kind, queue := range queues {
		res, err := client.JobList(ctx, river.NewJobListParams().Kinds(kind).States(finished...).First(100))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			t.Errorf("no %s jobs", kind)
		}
		for _, j := range res.Jobs {
			if j.Queue != queue {
				t.Errorf("job %d: %s on queue %q, want %q", j.ID, j.Kind, j.Queue, queue)
			}
		}
	}
	for _, state := range finished[1:] {
		res, err := client.JobList(ctx, river.NewJobListParams().States(state).First(1000))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			t.Errorf("no %s jobs", state)
		}
		for _, j := range res.Jobs {
			if len(j.Errors) == 0 || j.Errors[len(j.Errors)-1].Error == "" || j.Errors[len(j.Errors)-1].Attempt != j.Attempt {
				t.Errorf("%s job %d (attempt %d) without the error of its last attempt: %+v", state, j.ID, j.Attempt, j.Errors)
			}
		}
	}
}
