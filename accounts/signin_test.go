package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"tally"
	"tally/accounts"
	"tally/internal/testdb"
)

const password = "long enough password"

// signInLimited returns the limit that refused err, or "" when none did.
func signInLimited(err error) accounts.LimitKind {
	var limited *accounts.LimitError
	if errors.As(err, &limited) {
		return limited.Kind
	}
	return ""
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSignInLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	svc := accounts.NewService(pool, false)
	if _, err := svc.Create(ctx, system, accounts.NewUser{Email: "kim@example.com", Role: tally.RoleStaff, Password: password}); err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = svc.Authenticate(ctx, "kim@example.com", "wrong password", "203.0.113.7")
		})
	}
	close(start)
	wg.Wait()
	var refused, limited int
	for _, err := range errs {
		switch {
		case tally.ErrorCode(err) == tally.EUNAUTHORIZED:
			refused++
		case signInLimited(err) == accounts.LimitPair:
			limited++
		default:
			t.Errorf("unexpected outcome: %v", err)
		}
	}
	checked := count(t, pool, "SELECT count(*) FROM login_attempts")
	if refused != accounts.MaxFailuresPerPair || limited != n-accounts.MaxFailuresPerPair || checked != accounts.MaxFailuresPerPair {
		t.Errorf("%d wrong passwords at once: %d refused, %d limited, %d password checks; want %d, %d, %d",
			n, refused, limited, checked, accounts.MaxFailuresPerPair, n-accounts.MaxFailuresPerPair, accounts.MaxFailuresPerPair)
	}
	if got := count(t, pool, "SELECT count(*) FROM audit_events WHERE action = 'sign_in.lock' AND actor = 'system'"); got != 1 {
		t.Errorf("%d audit rows for the lock starting, want 1", got)
	}
}

func TestSignInLimitsCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	svc := accounts.NewService(pool, false)
	kim, err := svc.Create(ctx, system, accounts.NewUser{Email: "kim@example.com", Role: tally.RoleAdmin, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	const home = "198.51.100.1"
	if _, err := svc.Authenticate(ctx, "kim@example.com", password, home); err != nil {
		t.Fatalf("kim signs in from home: %v", err)
	}

	// An attacker guesses from two addresses until each is stopped for this account.
	for _, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		for i := range accounts.MaxFailuresPerPair + 2 {
			_, err := svc.Authenticate(ctx, "kim@example.com", fmt.Sprint("guess ", i), ip)
			want := tally.EUNAUTHORIZED
			if i >= accounts.MaxFailuresPerPair {
				want = tally.ETOOMANY
			}
			if tally.ErrorCode(err) != want {
				t.Fatalf("guess %d from %s: %v, want %s", i+1, ip, err, want)
			}
		}
		// The right password from a stopped address is refused too: the address cannot test it.
		if _, err := svc.Authenticate(ctx, "kim@example.com", password, ip); signInLimited(err) != accounts.LimitPair {
			t.Fatalf("right password from the attacker's address: %v, want the pair limit", err)
		}
	}

	// The account has had its free failures: a new address must wait, and is told how long.
	_, err = svc.Authenticate(ctx, "kim@example.com", "guess", "203.0.113.3")
	var limited *accounts.LimitError
	if !errors.As(err, &limited) || limited.Kind != accounts.LimitAccount || limited.RetryAfter <= 0 || limited.RetryAfter > accounts.AccountDelayBase {
		t.Fatalf("a new address after %d failures: %v, want a wait of at most %v", 2*accounts.MaxFailuresPerPair, err, accounts.AccountDelayBase)
	}
	// The owner, from a place they signed in from before, is not held up at all.
	if _, err := svc.Authenticate(ctx, "kim@example.com", password, home); err != nil {
		t.Fatalf("kim from home while attacked from elsewhere: %v", err)
	}

	// Once the wait has passed, one more try; the next wait is twice as long.
	if _, err := pool.Exec(ctx, "UPDATE login_attempts SET attempted_at = attempted_at - interval '31 seconds'"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "kim@example.com", "guess", "203.0.113.3"); tally.ErrorCode(err) != tally.EUNAUTHORIZED {
		t.Fatalf("after the wait: %v, want a password check", err)
	}
	_, err = svc.Authenticate(ctx, "kim@example.com", "guess", "203.0.113.4")
	if !errors.As(err, &limited) || limited.Kind != accounts.LimitAccount || limited.RetryAfter <= accounts.AccountDelayBase {
		t.Fatalf("the wait after one more failure: %v, want more than %v", err, accounts.AccountDelayBase)
	}
	if got := tally.ErrorMessage(err); got != "Too many failed sign-ins for this email. Wait 60 seconds before trying again." {
		t.Errorf("message = %q", got)
	}

	// The limits are in force for an admin to see, and to lift.
	limits, err := svc.Limits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[accounts.LimitKind]int{}
	for _, l := range limits {
		kinds[l.Kind]++
		if l.UserID != kim.ID {
			t.Errorf("limit %+v: user %d, want %d", l, l.UserID, kim.ID)
		}
	}
	if kinds[accounts.LimitPair] != 2 || kinds[accounts.LimitAccount] != 1 {
		t.Errorf("limits in force: %v, want two pairs and the account", kinds)
	}
	admin := tally.Actor{ID: 1, Email: "root@example.com"}
	if _, err := svc.LiftLimit(ctx, admin, accounts.LimitAccount, "kim@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LiftLimit(ctx, admin, accounts.LimitAccount, "kim@example.com", ""); tally.ErrorCode(err) != tally.ECONFLICT {
		t.Errorf("lifting twice: %v, want a conflict", err)
	}
	if _, err := svc.Authenticate(ctx, "kim@example.com", password, "203.0.113.4"); err != nil {
		t.Errorf("from a new address after the lift: %v", err)
	}

	audited := count(t, pool, `SELECT count(*) FROM audit_events WHERE record_type = 'user' AND record_id = $1
		AND ((actor = 'system' AND action IN ('sign_in.lock', 'sign_in.delay')) OR (actor = 'root@example.com' AND action = 'sign_in.unlock'))`, kim.ID)
	if audited != 4 {
		t.Errorf("%d audit rows for two pair locks, a delay and a lift, want 4", audited)
	}
}

func TestSignInLimitPerAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	svc := accounts.NewService(pool, false)
	if _, err := svc.Create(ctx, system, accounts.NewUser{Email: "kim@example.com", Role: tally.RoleStaff, Password: password}); err != nil {
		t.Fatal(err)
	}
	const ip = "203.0.113.9"
	for i := range accounts.MaxFailuresPerAddress {
		if _, err := svc.Authenticate(ctx, fmt.Sprintf("guess%d@example.com", i), "x", ip); tally.ErrorCode(err) != tally.EUNAUTHORIZED {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, err := svc.Authenticate(ctx, "kim@example.com", password, ip)
	if signInLimited(err) != accounts.LimitAddress || tally.ErrorMessage(err) != "Too many failed sign-ins from your network. Try again in 15 minutes." {
		t.Errorf("after %d failures from one address: %v", accounts.MaxFailuresPerAddress, err)
	}
	// Another address is not affected.
	if _, err := svc.Authenticate(ctx, "kim@example.com", password, "203.0.113.10"); err != nil {
		t.Errorf("from another address: %v", err)
	}
	// Unknown emails are limited the same way as real ones, so limits do not tell them apart.
	for i := range accounts.MaxFailuresPerPair {
		svc.Authenticate(ctx, "nobody@example.com", "x", "203.0.113.11")             //nolint:errcheck // only the next refusal matters
		svc.Authenticate(ctx, "kim@example.com", fmt.Sprint("x", i), "203.0.113.12") //nolint:errcheck // only the next refusal matters
	}
	_, unknown := svc.Authenticate(ctx, "nobody@example.com", "x", "203.0.113.11")
	_, known := svc.Authenticate(ctx, "kim@example.com", "x", "203.0.113.12")
	if tally.ErrorMessage(unknown) != tally.ErrorMessage(known) || tally.ErrorCode(known) != tally.ETOOMANY {
		t.Errorf("limits differ for unknown and known emails: %q vs %q", unknown, known)
	}
}

func TestAccountDelayGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	if got := accounts.AccountDelay(accounts.FreeFailuresPerAccount - 1); got != 0 {
		t.Errorf("delay before the free failures are used: %v", got)
	}
	prev := time.Duration(0)
	for f := int64(accounts.FreeFailuresPerAccount); f < 100; f++ {
		d := accounts.AccountDelay(f)
		if d < prev || d > accounts.AccountDelayMax {
			t.Fatalf("delay after %d failures = %v (previous %v)", f, d, prev)
		}
		prev = d
	}
	if prev != accounts.AccountDelayMax {
		t.Errorf("delay never reaches the cap: %v", prev)
	}
}
