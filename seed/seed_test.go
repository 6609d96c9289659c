package seed_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"tally/internal/testdb"
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
