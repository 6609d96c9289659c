package accounts_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"tally"
	"tally/accounts"
	"tally/internal/testdb"
)

func actorOf(u accounts.User) tally.Actor { return tally.Actor{ID: u.ID, Email: u.Email} }

func TestLastAdminStays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	svc := accounts.NewService(pool, false)
	mk := func(email string, role tally.Role) accounts.User {
		u, err := svc.Create(ctx, system, accounts.NewUser{Email: email, Role: role, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	ada, bob := mk("ada@example.com", tally.RoleAdmin), mk("bob@example.com", tally.RoleAdmin)

	if _, err := svc.SetRole(ctx, actorOf(ada), ada.ID, tally.RoleStaff); tally.ErrorCode(err) != tally.ECONFLICT {
		t.Errorf("demoting oneself: %v, want a conflict", err)
	}
	if _, err := svc.SetDisabled(ctx, actorOf(ada), ada.ID, true); tally.ErrorCode(err) != tally.ECONFLICT {
		t.Errorf("disabling oneself: %v, want a conflict", err)
	}

	// Two admins demote (or disable) each other at the same moment, many times over: one
	// admin always remains.
	for round := range 20 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		wg.Go(func() { <-start; _, errs[0] = svc.SetRole(ctx, actorOf(ada), bob.ID, tally.RoleStaff) })
		wg.Go(func() {
			<-start
			if round%2 == 0 {
				_, errs[1] = svc.SetRole(ctx, actorOf(bob), ada.ID, tally.RoleOperator)
			} else {
				_, errs[1] = svc.SetDisabled(ctx, actorOf(bob), ada.ID, true)
			}
		})
		close(start)
		wg.Wait()
		admins := count(t, pool, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
		if admins != 1 {
			t.Fatalf("round %d: %d enabled admins after two admins demoted each other (%v)", round, admins, errs)
		}
		conflicts := 0
		for _, err := range errs {
			if tally.ErrorCode(err) == tally.ECONFLICT {
				conflicts++
			} else if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if conflicts != 1 {
			t.Fatalf("round %d: %d refusals, want 1 (%v)", round, conflicts, errs)
		}
		// Back to two admins for the next round.
		if _, err := pool.Exec(ctx, "UPDATE users SET role = 'admin', disabled_at = NULL"); err != nil {
			t.Fatal(err)
		}
	}

	// The last admin can be neither demoted nor disabled, by anyone (here: the command line).
	if _, err := svc.SetRole(ctx, actorOf(ada), bob.ID, tally.RoleStaff); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetRole(ctx, system, ada.ID, tally.RoleStaff); tally.ErrorCode(err) != tally.ECONFLICT ||
		tally.ErrorMessage(err) != "ada@example.com is the last admin. Make someone else admin first." {
		t.Errorf("demoting the last admin: %v", err)
	}
	if _, err := svc.SetDisabled(ctx, system, ada.ID, true); tally.ErrorCode(err) != tally.ECONFLICT {
		t.Errorf("disabling the last admin: %v", err)
	}
	rc, err := svc.SetRole(ctx, actorOf(ada), bob.ID, tally.RoleAdmin)
	if err != nil || rc.From != tally.RoleStaff || rc.Role != tally.RoleAdmin {
		t.Errorf("promoting bob: %+v %v", rc, err)
	}
	if _, err := svc.SetRole(ctx, actorOf(ada), 999999, tally.RoleStaff); tally.ErrorCode(err) != tally.ENOTFOUND {
		t.Errorf("no such user: %v", err)
	}
	var from, to string
	if err := pool.QueryRow(ctx, "SELECT from_status, to_status FROM audit_events WHERE action = 'user.role' ORDER BY id DESC LIMIT 1").Scan(&from, &to); err != nil || from != "staff" || to != "admin" {
		t.Errorf("audit of the role change: %q → %q (%v)", from, to, err)
	}
}

func TestPasswordsEndSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	svc := accounts.NewService(pool, false)
	admin := tally.Actor{ID: 0, Email: "root@example.com"}
	kim, err := svc.Create(ctx, system, accounts.NewUser{Email: "kim@example.com", Role: tally.RoleStaff, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	session := func(token string) {
		if _, err := pool.Exec(ctx, "INSERT INTO sessions (token, data, expiry) VALUES ($1, '', now() + interval '1 hour') ON CONFLICT (token) DO UPDATE SET expiry = EXCLUDED.expiry", token); err != nil {
			t.Fatal(err)
		}
	}
	sessions := func() int { return count(t, pool, "SELECT count(*) FROM sessions") }
	session("kim-laptop")
	session("kim-phone")
	for _, token := range []string{"kim-laptop", "kim-phone"} {
		if err := svc.TrackSession(ctx, kim.ID, token); err != nil {
			t.Fatal(err)
		}
	}
	session("someone-else")

	if _, err := svc.SetPassword(ctx, admin, kim.ID, "short"); tally.ErrorCode(err) != tally.EINVALID {
		t.Errorf("short password: %v", err)
	}
	if _, err := svc.SetPassword(ctx, admin, kim.ID, "a new long password"); err != nil {
		t.Fatal(err)
	}
	if got := sessions(); got != 1 {
		t.Errorf("%d sessions after a new password, want only someone else's", got)
	}
	// A request of an ended session still in flight cannot save it back.
	session("kim-laptop")
	if got := sessions(); got != 1 {
		t.Errorf("an ended session was saved back")
	}
	if _, err := svc.Authenticate(ctx, "kim@example.com", "a new long password", "198.51.100.5"); err != nil {
		t.Errorf("the new password: %v", err)
	}

	// A set-password link: works once, replaced by a newer one, not after it expires.
	first, err := svc.CreatePasswordLink(ctx, admin, kim.ID)
	if err != nil {
		t.Fatal(err)
	}
	link, err := svc.CreatePasswordLink(ctx, admin, kim.ID)
	if err != nil || link.Token == first.Token || link.ExpiresAt.Before(time.Now().Add(accounts.PasswordLinkValid-time.Minute)) {
		t.Fatalf("link: %+v %v", link, err)
	}
	if _, err := svc.PasswordLinkUser(ctx, first.Token); tally.ErrorCode(err) != tally.ENOTFOUND {
		t.Errorf("the replaced link: %v", err)
	}
	if n := count(t, pool, "SELECT count(*) FROM password_links WHERE token_hash = convert_to($1, 'UTF8')", link.Token); n != 0 {
		t.Errorf("the token is stored as it is")
	}
	if u, err := svc.PasswordLinkUser(ctx, link.Token); err != nil || u.ID != kim.ID {
		t.Fatalf("link user: %+v %v", u, err)
	}
	if _, err := svc.SetPasswordWithLink(ctx, link.Token, "short", ""); tally.ErrorCode(err) != tally.EINVALID {
		t.Errorf("short password by link: %v", err)
	}
	session("kim-tablet")
	if err := svc.TrackSession(ctx, kim.ID, "kim-tablet"); err != nil {
		t.Fatal(err)
	}
	// Two tabs send the form at once: one sets the password.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pw := range []string{"password from tab one", "password from tab two"} {
		wg.Go(func() { _, errs[i] = svc.SetPasswordWithLink(ctx, link.Token, pw, "") })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || (tally.ErrorCode(errs[0]) != tally.ENOTFOUND && tally.ErrorCode(errs[1]) != tally.ENOTFOUND) {
		t.Errorf("two uses of one link: %v", errs)
	}
	if got := sessions(); got != 1 {
		t.Errorf("%d sessions after a password set by link, want 1", got)
	}
	expired, err := svc.CreatePasswordLink(ctx, admin, kim.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE password_links SET expires_at = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetPasswordWithLink(ctx, expired.Token, "a password too late", ""); tally.ErrorCode(err) != tally.ENOTFOUND {
		t.Errorf("expired link: %v", err)
	}
	audited := count(t, pool, "SELECT count(*) FROM audit_events WHERE record_type = 'user' AND record_id = $1 AND action IN ('user.password', 'user.password_link')", kim.ID)
	if audited != 5 { // set by admin, three links made, one used
		t.Errorf("%d audit rows for passwords and links, want 5", audited)
	}
}
