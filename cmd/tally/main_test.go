package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"tally/accounts"
	"tally/internal/testdb"
)

func TestUserAdd(t *testing.T) {
	pool := testdb.New(t)
	t.Setenv("DATABASE_URL", pool.Config().ConnString())
	t.Setenv("TALLY_PASSWORD", "a long enough password")
	ctx := context.Background()

	var out bytes.Buffer
	if err := run(ctx, []string{"user", "add", "-email", "Ops@Example.com", "-role", "operator", "-name", "Ops"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Created ops@example.com (operator)") {
		t.Errorf("output: %q", out.String())
	}
	if _, err := accounts.NewService(pool, false).Authenticate(ctx, "ops@example.com", "a long enough password", "127.0.0.1"); err != nil {
		t.Errorf("the new user cannot sign in: %v", err)
	}
	err := run(ctx, []string{"user", "add", "-email", "x@example.com", "-role", "root"}, &out)
	if err == nil || !strings.Contains(err.Error(), "Choose a role") {
		t.Errorf("bad role: %v", err)
	}
	if err := run(ctx, []string{"frobnicate"}, &out); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
}
