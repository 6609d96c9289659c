package operations_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"tally/internal/testdb"
)

// TestRiverSchemaCopy holds queries/river/schema.sql, the copy of River's tables sqlc reads,
// to the tables River's migrator made: the same columns, types, nullability and defaults.
// After a River upgrade that changes them, this fails until the copy is taken again.
func TestRiverSchemaCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	copySQL, err := os.ReadFile("../queries/river/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// The copy runs in a schema of its own, beside River's real tables.
	for _, stmt := range []string{"CREATE SCHEMA river_copy", "SET search_path TO river_copy"} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, string(copySQL)); err != nil {
		t.Fatalf("queries/river/schema.sql does not run: %v", err)
	}
	if _, err := conn.Exec(ctx, "SET search_path TO public"); err != nil {
		t.Fatal(err)
	}
	columns := func(schema, table string) map[string]string {
		rows, err := conn.Query(ctx, `
			SELECT column_name, format('%s null=%s default=%s', format_type(a.atttypid, a.atttypmod), c.is_nullable,
			       replace(coalesce(c.column_default, ''), 'river_copy.', ''))
			FROM information_schema.columns c
			JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
			WHERE c.table_schema = $1 AND c.table_name = $2`, schema, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var name, def string
			if err := rows.Scan(&name, &def); err != nil {
				t.Fatal(err)
			}
			out[name] = strings.ReplaceAll(def, "river_copy.", "")
		}
		return out
	}
	for _, table := range []string{"river_job", "river_queue"} {
		live, copied := columns("public", table), columns("river_copy", table)
		if len(live) == 0 {
			t.Fatalf("River's %s has no columns here: is River migrated?", table)
		}
		for name, want := range live {
			if got, ok := copied[name]; !ok {
				t.Errorf("%s.%s (%s) is missing from queries/river/schema.sql", table, name, want)
			} else if got != want {
				t.Errorf("%s.%s is %s in queries/river/schema.sql, River has %s", table, name, got, want)
			}
		}
		for name := range copied {
			if _, ok := live[name]; !ok {
				t.Errorf("%s.%s is in queries/river/schema.sql, River has no such column", table, name)
			}
		}
	}
	var live, copied string
	if err := conn.QueryRow(ctx, `SELECT
		(SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'public.river_job_state'::regtype),
		(SELECT string_agg(enumlabel, ',' ORDER BY enumlabel) FROM pg_enum WHERE enumtypid = 'river_copy.river_job_state'::regtype)`).Scan(&live, &copied); err != nil {
		t.Fatal(err)
	}
	if sorted := sortCSV(live); sorted != copied {
		t.Errorf("river_job_state is {%s} in River, {%s} in queries/river/schema.sql", sorted, copied)
	}
}

func sortCSV(s string) string {
	parts := strings.Split(s, ",")
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
