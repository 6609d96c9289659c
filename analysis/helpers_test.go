package analysis

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
)

// seeded returns a database with a few thousand rows of skewed data: five resources, 200
// slots of which a few take most reservations, 2,000 customers, 30,000 reservations mostly
// settled. Enough for the planner to prefer an index to a scan where one fits.
func seeded(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := testdb.New(t)
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO resources (name, kind) SELECT 'Hall ' || g, 'hall' FROM generate_series(1, 5) g`,
		`INSERT INTO slots (resource_id, starts_at, capacity, reserved, price_cents)
		 SELECT (SELECT min(id) FROM resources) + g % 5, now() + g * interval '1 hour', 1000000, 0, 1000 FROM generate_series(1, 200) g`,
		`INSERT INTO customers (name, email) SELECT 'Cleo ' || g, 'cleo' || g || '@example.com' FROM generate_series(1, 2000) g`,
		// Slots by a power law (the first few are busy), seats uniform, statuses skewed.
		`INSERT INTO reservations (slot_id, customer_id, seats, amount_cents, currency, status, hold_expires_at,
		                           approved_at, settled_at, closed_at, created_at)
		 SELECT (SELECT min(id) FROM slots) + floor(200 * power(random(), 4))::int,
		        (SELECT min(id) FROM customers) + floor(2000 * random())::int,
		        1 + g % 100, 1000 * (1 + g % 100), 'EUR', st,
		        now() + interval '1 hour',
		        CASE WHEN st IN ('approved', 'settled') THEN now() END,
		        CASE WHEN st = 'settled' THEN now() - (g % 30) * interval '1 day' END,
		        CASE WHEN st IN ('rejected', 'cancelled', 'expired') THEN now() END,
		        now() - (g % 365) * interval '1 day'
		 FROM generate_series(1, 30000) g,
		      LATERAL (SELECT CASE WHEN g % 100 < 80 THEN 'settled' WHEN g % 100 < 90 THEN 'approved' WHEN g % 100 < 95 THEN 'held'
		                           WHEN g % 100 < 98 THEN 'cancelled' WHEN g % 100 < 99 THEN 'rejected' ELSE 'expired' END AS st) s`,
		`ANALYZE resources, slots, customers, reservations`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
	return pool
}

func newService(pool *pgxpool.Pool) *Service {
	return NewService(pool, Config{Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
}

// engineer is an engineer's account, as the actor of comparisons.
func engineer(t *testing.T, pool *pgxpool.Pool) tally.Actor {
	u := fixture.User(t, pool, "eng-"+fixture.Unique()+"@example.com", tally.RoleEngineer)
	return tally.Actor{ID: u.ID, Email: u.Email, RequestID: "test"}
}

// tableCounts is a fingerprint of the tables a refused statement must leave alone.
func tableCounts(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `SELECT concat_ws(' ',
		(SELECT count(*) FROM reservations), (SELECT sum(seats) FROM reservations), (SELECT count(*) FROM users),
		(SELECT count(*) FROM sessions), (SELECT count(*) FROM audit_events), (SELECT count(*) FROM slots),
		(SELECT max(id) FROM reservations), (SELECT count(*) FROM reservations WHERE status = 'held'))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func code(err error) string { return tally.ErrorCode(err) }
