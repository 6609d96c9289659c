// Package testdb gives tests a freshly migrated PostgreSQL database of their own, quickly:
// the migrations run once into a template database, and each test gets a copy of it
// (CREATE DATABASE ... TEMPLATE), dropped when the test ends. Tests that use it may run in
// parallel, and may commit, since nothing is shared.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tally/migrations"
)

// New returns a pool on a new database holding every migration, for the length of t.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := AdminURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("testdb: connect to %s: %v", redact(dsn), err)
	}
	defer admin.Close(ctx)

	tmpl, err := ensureTemplate(ctx, admin, dsn)
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	name := "tally_test_" + randomHex(6)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("testdb: create %s: %v", name, err)
	}
	watchLog(t, name) // registered after the drop, so that it runs before it
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), fmt.Sprintf("DROP DATABASE %s WITH (FORCE)", name)); err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
		}
	})

	pool, err := pgxpool.New(ctx, URLFor(t, name))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// AdminURL is DATABASE_URL, which `make test` sets. Without it the test fails: a database
// test that quietly skips would count as passing.
func AdminURL(t testing.TB) string {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL")
	}
	return dsn
}

// URLFor returns DATABASE_URL pointed at database name. Everything else in it is kept as it
// is (password, sslmode and other settings), so a password-protected role works.
func URLFor(t testing.TB, name string) string {
	u, err := withDatabase(AdminURL(t), name)
	if err != nil {
		t.Fatalf("testdb: DATABASE_URL: %v", err)
	}
	return u
}

// withDatabase returns the connection string dsn with its database replaced by name. dsn
// is a URL (postgres://...) or keyword/value settings (host=... user=...), as pgx takes both.
func withDatabase(dsn, name string) (string, error) {
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return "", err
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	// In keyword/value form the last setting of a keyword wins.
	return dsn + " dbname=" + name, nil
}

// redact hides the password of a URL, for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	if strings.Contains(dsn, "password") {
		return "(DATABASE_URL)"
	}
	return dsn
}

// ensureTemplate builds the template database for the current migrations unless it exists.
// Its name carries a hash of the migrations and the River version, so a changed schema gets
// a new template, and of the role, since the tables of a copy keep the template's owner:
// another role's copy would be a database its tests may not write to. An advisory lock
// keeps parallel test binaries from building it twice.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, dsn string) (string, error) {
	var role string
	if err := admin.QueryRow(ctx, "SELECT current_user").Scan(&role); err != nil {
		return "", err
	}
	name := "tally_template_" + schemaHash(role)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7261001)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(7261001)") //nolint:errcheck // the session ends soon anyway

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return name, err
	}
	// Build under another name and rename at the end, so that a build that dies half way
	// is never taken for a template.
	building := name + "_build"
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return "", err
	}
	cfg.ConnConfig.Database = building
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return "", err
	}
	err = migrations.Up(ctx, pool, slog.New(slog.DiscardHandler))
	pool.Close()
	if err != nil {
		return "", err
	}
	_, err = admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name))
	return name, err
}

func schemaHash(role string) string {
	h := sha256.New()
	h.Write([]byte(role + "\x00"))
	err := fs.WalkDir(migrations.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := migrations.FS().Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h.Write([]byte(path))
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		panic(err)
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/riverqueue/river" {
				h.Write([]byte(dep.Version))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
