package testdb_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"

	"tally/internal/testdb"
)

// A password-protected role (docker compose's postgres:postgres, a CI service) gets its own
// migrated databases, reached with its password. The cluster here trusts loopback, so the
// password is checked where testdb puts it: in the URLs and the pool's configuration.
func TestPasswordProtectedRole(t *testing.T) {
	ctx := context.Background()
	admin := testdb.AdminURL(t)
	role, password := "tally_pw_"+randomHex(4), "s3cret @:/?%# pass"
	createRole(t, admin, role, password)

	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	t.Setenv("DATABASE_URL", u.String())

	pool := testdb.New(t)
	if cfg := pool.Config().ConnConfig; cfg.User != role || cfg.Password != password {
		t.Errorf("pool connects as %q with password %q; want %q with %q", cfg.User, cfg.Password, role, password)
	}
	var who string
	if err := pool.QueryRow(ctx, "SELECT current_user").Scan(&who); err != nil || who != role {
		t.Fatalf("current_user %q, %v; want %q", who, err, role)
	}
	// The copy's tables belong to the role, not to whoever built another role's template.
	if _, err := pool.Exec(ctx, "INSERT INTO customers (name, email) VALUES ('Cleo', 'cleo@example.com')"); err != nil {
		t.Errorf("the role cannot write to its test database: %v", err)
	}

	cfg, err := pgx.ParseConfig(testdb.URLFor(t, "other_db"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "other_db" || cfg.User != role || cfg.Password != password || cfg.Port != pool.Config().ConnConfig.Port {
		t.Errorf("URLFor: database %q, user %q, password %q, port %d", cfg.Database, cfg.User, cfg.Password, cfg.Port)
	}
}

// URLFor keeps every setting of a keyword/value DATABASE_URL, the other form pgx takes.
func TestURLForKeywordValue(t *testing.T) {
	t.Setenv("DATABASE_URL", "host=127.0.0.1 port=5433 user=tally password=pw dbname=tally sslmode=disable")
	cfg, err := pgx.ParseConfig(testdb.URLFor(t, "tally_test_x"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != "tally_test_x" || cfg.User != "tally" || cfg.Password != "pw" || cfg.Port != 5433 {
		t.Errorf("database %q, user %q, password %q, port %d", cfg.Database, cfg.User, cfg.Password, cfg.Port)
	}
}

// createRole creates a LOGIN CREATEDB role and, when the test ends, drops it with the
// databases it owns (its template among them).
func createRole(t *testing.T, admin, role, password string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN CREATEDB PASSWORD '%s'", role, password)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)", role)
		if err != nil {
			t.Error(err)
			return
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Error(err)
		}
		for _, name := range names {
			if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE %s WITH (FORCE)", pgx.Identifier{name}.Sanitize())); err != nil {
				t.Error(err)
			}
		}
		if _, err := conn.Exec(ctx, "DROP ROLE "+role); err != nil {
			t.Error(err)
		}
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
