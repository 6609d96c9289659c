package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"tally/internal/testdb"
)

// The console's and the workers' statements stop at TALLY_STATEMENT_TIMEOUT; migrations
// and seeding have no limit, even when the database sets one of its own.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	testdb.AllowErrors(t, "57014") // the statement cancelled on purpose, below
	dsn := db.Config().ConnString()
	// A limit on the database itself, as a DBA may set, far too short for any real work.
	// It applies to connections made from now on.
	name := pgx.Identifier{db.Config().ConnConfig.Database}.Sanitize()
	if _, err := db.Exec(ctx, "ALTER DATABASE "+name+" SET statement_timeout = '1ms'"); err != nil {
		t.Fatal(err)
	}

	serving, err := openPool(ctx, Config{DatabaseURL: dsn, StatementTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer serving.Close()
	if got := show(t, serving); got != "300ms" {
		t.Errorf("serving pool: statement_timeout %s, want 300ms", got)
	}
	_, err = serving.Exec(ctx, "SELECT pg_sleep(1)")
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("a 1s statement on the serving pool: %v; want it cancelled (57014)", err)
	}

	maintenance, err := openMaintenancePool(ctx, Config{DatabaseURL: dsn, StatementTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer maintenance.Close()
	if got := show(t, maintenance); got != "0" {
		t.Errorf("maintenance pool: statement_timeout %s, want 0 (none)", got)
	}

	// Zero leaves the database's own setting.
	unset, err := openPool(ctx, Config{DatabaseURL: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer unset.Close()
	if got := show(t, unset); got != "1ms" {
		t.Errorf("TALLY_STATEMENT_TIMEOUT=0: statement_timeout %s, want the database's 1ms", got)
	}

	// Real work past the 1ms limit: migrations (under their advisory lock) and a COPY seed.
	cfg := Config{DatabaseURL: dsn, StatementTimeout: time.Millisecond}
	log := slog.New(slog.DiscardHandler)
	if err := runMigrate(ctx, cfg, log, nil); err != nil {
		t.Errorf("migrate: %v", err)
	}
	var out bytes.Buffer
	if err := runSeed(ctx, cfg, log, []string{"-reservations", "20000"}, &out); err != nil {
		t.Errorf("seed: %v", err)
	} else if !strings.Contains(out.String(), "20000 reservations") {
		t.Errorf("seed output: %q", out.String())
	}
}

func show(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var v string
	if err := pool.QueryRow(context.Background(), "SHOW statement_timeout").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
