package accounts_test

import (
	"context"
	"testing"

	"tally"
	"tally/accounts"
	"tally/internal/testdb"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	hash, err := accounts.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !accounts.CheckPassword(hash, "correct horse battery") {
		t.Error("the right password was refused")
	}
	if accounts.CheckPassword(hash, "correct horse battery!") {
		t.Error("a wrong password was accepted")
	}
	if accounts.CheckPassword("$argon2id$garbage", "x") {
		t.Error("a malformed hash was accepted")
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := accounts.NewService(testdb.New(t), false)
	if _, err := svc.Create(ctx, system, accounts.NewUser{Email: " Kim@Example.com", Role: tally.RoleStaff, Password: "long enough password"}); err != nil {
		t.Fatal(err)
	}

	if u, err := svc.Authenticate(ctx, "kim@example.com", "long enough password", "10.0.0.1"); err != nil || u.Email != "kim@example.com" {
		t.Fatalf("good credentials: %v %v", u.Email, err)
	}
	_, wrongPassword := svc.Authenticate(ctx, "kim@example.com", "nope", "10.0.0.1")
	_, unknownUser := svc.Authenticate(ctx, "nobody@example.com", "nope", "10.0.0.1")
	if tally.ErrorCode(wrongPassword) != tally.EUNAUTHORIZED || tally.ErrorMessage(wrongPassword) != tally.ErrorMessage(unknownUser) {
		t.Errorf("refusals differ: %q vs %q", wrongPassword, unknownUser)
	}

	for _, blank := range [][2]string{{"", "long enough password"}, {"  ", "long enough password"}, {"kim@example.com", ""}} {
		if _, err := svc.Authenticate(ctx, blank[0], blank[1], "10.0.0.1"); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("Authenticate(%q, %q): %v, want invalid", blank[0], blank[1], err)
		}
	}

	if _, err := svc.Create(ctx, system, accounts.NewUser{Email: "kim@example.com", Role: tally.RoleStaff, Password: "long enough password"}); tally.ErrorCode(err) != tally.ECONFLICT {
		t.Errorf("duplicate email: got %v, want conflict", err)
	}
	for _, bad := range []accounts.NewUser{
		{Email: "not-an-email", Role: tally.RoleStaff, Password: "long enough password"},
		{Email: "a@example.com", Role: "root", Password: "long enough password"},
		{Email: "a@example.com", Role: tally.RoleStaff, Password: "short"},
	} {
		if _, err := svc.Create(ctx, system, bad); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("Create(%+v): got %v, want invalid", bad, err)
		}
	}
}

func TestDemoAccountsOnlyInDemoMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	if err := accounts.NewService(pool, true).EnsureDemoAccounts(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.NewService(pool, true).Authenticate(ctx, "staff@tally.test", accounts.DemoPassword, "10.0.0.2"); err != nil {
		t.Errorf("demo mode: %v", err)
	}
	if _, err := accounts.NewService(pool, false).Authenticate(ctx, "staff@tally.test", accounts.DemoPassword, "10.0.0.2"); tally.ErrorCode(err) != tally.EUNAUTHORIZED {
		t.Errorf("demo account outside demo mode: got %v, want unauthorized", err)
	}
}

func TestUserSearch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := accounts.NewService(testdb.New(t), false)
	for _, email := range []string{"kim@example.com", "lee@example.com", "kim_50%@example.org"} {
		if _, err := svc.Create(ctx, system, accounts.NewUser{Email: email, Name: "Name of " + email, Role: tally.RoleStaff, Password: "long enough password"}); err != nil {
			t.Fatal(err)
		}
	}
	for search, want := range map[string]int{"": 3, "KIM": 2, "example.org": 1, "_50%": 1, "%": 1, "nobody": 0, "name of lee": 1} {
		if got, err := svc.List(ctx, search); err != nil || len(got) != want {
			t.Errorf("List(%q) = %d users (%v), want %d", search, len(got), err, want)
		}
	}
}

var system = tally.Actor{Email: "test"}
