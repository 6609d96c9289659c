package accounts

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"tally"
	"tally/audit"
	"tally/queries"
)

// Sign-in limits, after OWASP's Authentication Cheat Sheet. None of them is a lock an
// outsider can put on someone else:
//
//   - per (account, address) pair: MaxFailuresPerPair failures in LoginWindow since the
//     pair's last success stop that address from trying that account until they age out;
//   - per address: MaxFailuresPerAddress failures in LoginWindow, whatever the accounts,
//     stop that address from trying any account until they age out;
//   - per account, from every address: after FreeFailuresPerAccount failures in
//     AccountWindow, each further attempt waits AccountDelayBase, doubled for each further
//     failure, at most AccountDelayMax, after the latest failure. Addresses the account
//     signed in from successfully within TrustedFor are exempt, so its owner still gets in
//     while the account is attacked from elsewhere.
//
// All of them count by the email as typed (normalised), whether or not an account has it,
// so that refusals say nothing about which accounts exist.
const (
	LoginWindow            = 15 * time.Minute
	MaxFailuresPerPair     = 5
	MaxFailuresPerAddress  = 20
	AccountWindow          = time.Hour
	FreeFailuresPerAccount = 10
	AccountDelayBase       = 30 * time.Second
	AccountDelayMax        = 15 * time.Minute
	TrustedFor             = 30 * 24 * time.Hour
)

const (
	badCredentialMessage = "Wrong email or password."
	maxEmailLen          = 254
	// recordSignIn is the audit record type of limits on an address, or on an email no
	// account has: the record id is the sign-in attempt that started the limit.
	recordSignIn = audit.RecordSignIn
)

// LimitKind names one of the sign-in limits.
type LimitKind string

// The sign-in limits.
const (
	LimitPair    LimitKind = "pair"    // one email from one address
	LimitAddress LimitKind = "address" // one address, any email
	LimitAccount LimitKind = "account" // one email from every address: growing delays
)

// LimitError refuses a sign-in that a limit does not allow yet. It carries ETOOMANY (its
// message says how long to wait) and, for the Retry-After header, the wait itself.
type LimitError struct {
	Kind       LimitKind
	RetryAfter time.Duration
	err        *tally.Error
}

// Error says which limit refused, for logs; people see the message tally.ErrorMessage gives.
func (e *LimitError) Error() string { return e.err.Error() }

// Unwrap lets tally.ErrorCode and tally.ErrorMessage see the coded error.
func (e *LimitError) Unwrap() error { return e.err }

func limitError(kind LimitKind, wait time.Duration) *LimitError {
	var msg string
	switch kind {
	case LimitPair:
		msg = "Too many failed sign-ins for this email from your network. Try again in %s."
	case LimitAddress:
		msg = "Too many failed sign-ins from your network. Try again in %s."
	default:
		msg = "Too many failed sign-ins for this email. Wait %s before trying again."
	}
	return &LimitError{Kind: kind, RetryAfter: wait, err: tally.Errorf(tally.ETOOMANY, msg, humanWait(wait))}
}

// humanWait says a wait the way a person would, rounded up so that trying again after it
// works.
func humanWait(d time.Duration) string {
	if d <= 90*time.Second {
		s := int(math.Ceil(d.Seconds()))
		if s <= 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", s)
	}
	return fmt.Sprintf("%d minutes", int(math.Ceil(d.Minutes())))
}

// AccountDelay is how long an attempt must wait after the latest failure, when the email has
// failures failed attempts in AccountWindow: nothing up to FreeFailuresPerAccount, then
// AccountDelayBase doubling with each failure, at most AccountDelayMax.
func AccountDelay(failures int64) time.Duration {
	over := failures - FreeFailuresPerAccount
	if over < 0 {
		return 0
	}
	if over > 16 { // far past the cap; keeps the shift below from overflowing
		return AccountDelayMax
	}
	return min(AccountDelayBase<<over, AccountDelayMax)
}

// Authenticate checks email and password for a sign-in from ip. A blank email or password is
// EINVALID. Every refusal for bad credentials says the same thing, whatever the reason, so that it tells nothing about which
// accounts exist; a sign-in the limits do not allow gets a *LimitError (ETOOMANY) before the
// password is looked at.
//
// Checking the limits and recording the attempt are one step, under locks on the email and
// on the address, so that concurrent attempts cannot all pass a limit that only one of them
// should: the attempt is recorded as a failure before its password is checked (outside the
// locks, since hashing is slow) and turned into a success afterwards if it is one.
func (s *Service) Authenticate(ctx context.Context, email, password, ip string) (User, error) {
	email = normalizeEmail(email)
	if email == "" || password == "" {
		// Nobody's credentials: refused without counting, as the form would have refused it.
		return User{}, tally.Errorf(tally.EINVALID, "Enter your email and your password.")
	}
	if len(email) > maxEmailLen { // no account has one so long; don't store it
		email = "(too long)"
	}
	attempt, err := s.claimAttempt(ctx, email, ip)
	if err != nil {
		return User{}, err
	}

	user, err := s.q.UserGetByEmail(ctx, email)
	found := err == nil
	if errors.Is(err, pgx.ErrNoRows) {
		CheckPassword(s.dummyHash, password) // the same work as for an account that exists
	} else if err != nil {
		return User{}, err
	}
	ok := found && len(password) <= maxPasswordLen && CheckPassword(user.PasswordHash, password) &&
		user.DisabledAt == nil && (!user.Demo || s.demoMode)

	var userID int64
	if found {
		userID = user.ID
	}
	if err := s.settleAttempt(ctx, attempt, email, ip, userID, ok); err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, tally.Errorf(tally.EUNAUTHORIZED, badCredentialMessage)
	}
	return userFrom(user), nil
}

// claimAttempt checks every limit for email from ip and, if they allow it, records a pending
// attempt, in one transaction holding the email's and then the address's lock.
func (s *Service) claimAttempt(ctx context.Context, email, ip string) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := queries.New(tx)
	if err := lockSignIn(ctx, q, email, ip); err != nil {
		return 0, err
	}

	pair, err := q.LoginPairFailures(ctx, queries.LoginPairFailuresParams{
		Email: email, Ip: ip, WindowSecs: LoginWindow.Seconds(), MaxRows: MaxFailuresPerPair,
	})
	if err != nil {
		return 0, err
	}
	address, err := q.LoginAddressFailures(ctx, queries.LoginAddressFailuresParams{
		Ip: ip, WindowSecs: LoginWindow.Seconds(), MaxRows: MaxFailuresPerAddress,
	})
	if err != nil {
		return 0, err
	}
	account, err := q.LoginEmailFailures(ctx, queries.LoginEmailFailuresParams{Email: email, WindowSecs: AccountWindow.Seconds()})
	if err != nil {
		return 0, err
	}
	now := account.Now
	// A limit of n failures lifts when the n-th newest of them leaves the window.
	if len(pair) >= MaxFailuresPerPair {
		return 0, limitError(LimitPair, pair[MaxFailuresPerPair-1].Add(LoginWindow).Sub(now))
	}
	if len(address) >= MaxFailuresPerAddress {
		return 0, limitError(LimitAddress, address[MaxFailuresPerAddress-1].Add(LoginWindow).Sub(now))
	}
	if delay := AccountDelay(account.Failures); delay > 0 && now.Before(account.Latest.Add(delay)) {
		trusted, err := q.SignInTrustedCheck(ctx, queries.SignInTrustedCheckParams{Email: email, Ip: ip, WithinSecs: TrustedFor.Seconds()})
		if err != nil {
			return 0, err
		}
		if !trusted {
			return 0, limitError(LimitAccount, account.Latest.Add(delay).Sub(now))
		}
	}

	id, err := q.LoginAttemptClaim(ctx, queries.LoginAttemptClaimParams{Email: email, Ip: ip})
	if err != nil {
		return 0, err
	}
	return id, tx.Commit(ctx)
}

// settleAttempt records the outcome of the password check. A success makes ip a trusted
// place for email. A failure that brings a limit to its threshold starts that limit, and is
// audited as done by the system; the locks make exactly one failure see each threshold.
func (s *Service) settleAttempt(ctx context.Context, attempt int64, email, ip string, userID int64, ok bool) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := queries.New(tx)
	if err := q.LoginAttemptSettle(ctx, queries.LoginAttemptSettleParams{ID: attempt, Succeeded: ok}); err != nil {
		return err
	}
	if ok {
		if err := q.SignInTrustedRecord(ctx, queries.SignInTrustedRecordParams{Email: email, Ip: ip}); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}

	if err := lockSignIn(ctx, q, email, ip); err != nil {
		return err
	}
	// Only settled failures are counted here: one still pending may yet be a success.
	pair, err := q.LoginPairFailures(ctx, queries.LoginPairFailuresParams{
		Email: email, Ip: ip, WindowSecs: LoginWindow.Seconds(), DecidedOnly: true, MaxRows: MaxFailuresPerPair + 1,
	})
	if err != nil {
		return err
	}
	address, err := q.LoginAddressFailures(ctx, queries.LoginAddressFailuresParams{
		Ip: ip, WindowSecs: LoginWindow.Seconds(), DecidedOnly: true, MaxRows: MaxFailuresPerAddress + 1,
	})
	if err != nil {
		return err
	}
	account, err := q.LoginEmailFailures(ctx, queries.LoginEmailFailuresParams{Email: email, WindowSecs: AccountWindow.Seconds(), DecidedOnly: true})
	if err != nil {
		return err
	}

	recordType, recordID := recordSignIn, attempt
	if userID != 0 {
		recordType, recordID = audit.RecordUser, userID
	}
	var starts []audit.Entry
	if len(pair) == MaxFailuresPerPair {
		starts = append(starts, audit.Entry{Action: "sign_in.lock", RecordType: recordType, RecordID: recordID, To: "locked",
			Detail: map[string]any{"limit": LimitPair, "email": email, "ip": ip, "failures": len(pair),
				"until": pair[MaxFailuresPerPair-1].Add(LoginWindow)}})
	}
	if len(address) == MaxFailuresPerAddress {
		starts = append(starts, audit.Entry{Action: "sign_in.lock", RecordType: recordSignIn, RecordID: attempt, To: "locked",
			Detail: map[string]any{"limit": LimitAddress, "ip": ip, "failures": len(address),
				"until": address[MaxFailuresPerAddress-1].Add(LoginWindow)}})
	}
	if account.Failures == FreeFailuresPerAccount {
		starts = append(starts, audit.Entry{Action: "sign_in.delay", RecordType: recordType, RecordID: recordID, To: "delayed",
			Detail: map[string]any{"limit": LimitAccount, "email": email, "failures": account.Failures,
				"next_try": account.Latest.Add(AccountDelay(account.Failures))}})
	}
	for _, e := range starts {
		// The system starts a limit; audit.Record names it "system".
		if err := audit.Record(ctx, tx, e); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// lockSignIn takes the email's lock, then the address's: always in that order, so that two
// sign-ins never wait for each other in a circle.
func lockSignIn(ctx context.Context, q *queries.Queries, email, ip string) error {
	if err := q.LoginLockEmail(ctx, email); err != nil {
		return err
	}
	return q.LoginLockAddress(ctx, ip)
}

// Limit is a sign-in limit in force.
type Limit struct {
	Kind LimitKind
	// Email is the email limited (empty for LimitAddress), Address the address (empty for
	// LimitAccount).
	Email   string
	Address string
	// UserID is the account with Email, zero when no account has it.
	UserID   int64
	Failures int64
	// Until is when the limit lifts by itself; for LimitAccount, when the next attempt may
	// be made (it may have passed: the delays go on until failures leave AccountWindow).
	Until time.Time
}

// Limits returns the sign-in limits in force: locked pairs and addresses, and delayed
// accounts.
func (s *Service) Limits(ctx context.Context) ([]Limit, error) {
	var out []Limit
	pairs, err := s.q.LoginLimitedPairs(ctx, queries.LoginLimitedPairsParams{MaxFailures: MaxFailuresPerPair, WindowSecs: LoginWindow.Seconds()})
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		out = append(out, Limit{Kind: LimitPair, Email: p.Email, Address: p.Ip, UserID: deref(p.UserID), Failures: p.Failures,
			Until: p.LiftingFailure.Add(LoginWindow)})
	}
	addresses, err := s.q.LoginLimitedAddresses(ctx, queries.LoginLimitedAddressesParams{MaxFailures: MaxFailuresPerAddress, WindowSecs: LoginWindow.Seconds()})
	if err != nil {
		return nil, err
	}
	for _, a := range addresses {
		out = append(out, Limit{Kind: LimitAddress, Address: a.Ip, Failures: a.Failures, Until: a.LiftingFailure.Add(LoginWindow)})
	}
	accounts, err := s.q.LoginDelayedEmails(ctx, queries.LoginDelayedEmailsParams{FreeFailures: FreeFailuresPerAccount, WindowSecs: AccountWindow.Seconds()})
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		out = append(out, Limit{Kind: LimitAccount, Email: a.Email, UserID: deref(a.UserID), Failures: a.Failures,
			Until: a.Latest.Add(AccountDelay(a.Failures))})
	}
	return out, nil
}

// LiftLimit lifts a sign-in limit now, by forgiving the failures that make it: for a pair,
// that email's failures from that address; for an address, its failures; for an account,
// the email's failures from everywhere. Audited as done by actor; ECONFLICT when there is
// nothing left to forgive (the limit lifted by itself, or someone lifted it first).
func (s *Service) LiftLimit(ctx context.Context, actor tally.Actor, kind LimitKind, email, address string) (int64, error) {
	email = normalizeEmail(email)
	var byEmail, byAddress *string
	switch {
	case kind == LimitPair && email != "" && address != "":
		byEmail, byAddress = &email, &address
	case kind == LimitAddress && address != "":
		byAddress, email = &address, ""
	case kind == LimitAccount && email != "":
		byEmail, address = &email, ""
	default:
		return 0, tally.Errorf(tally.EINVALID, "Say which limit to lift: a pair needs an email and an address, an address limit an address, an account limit an email.")
	}

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := queries.New(tx)
	cleared, err := q.LoginFailuresClear(ctx, queries.LoginFailuresClearParams{Email: byEmail, Ip: byAddress})
	if err != nil {
		return 0, err
	}
	if cleared.Cleared == 0 {
		return 0, tally.Errorf(tally.ECONFLICT, "There is nothing to lift any more: the limit has lifted by itself or was lifted already.")
	}
	recordType, recordID := recordSignIn, cleared.LatestID
	if email != "" {
		if u, err := q.UserGetByEmail(ctx, email); err == nil {
			recordType, recordID = audit.RecordUser, u.ID
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return 0, err
		}
	}
	detail := map[string]any{"limit": kind, "failures_forgiven": cleared.Cleared}
	if email != "" {
		detail["email"] = email
	}
	if address != "" {
		detail["ip"] = address
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		Actor: actor, Action: "sign_in.unlock", RecordType: recordType, RecordID: recordID, From: "locked", To: "unlocked", Detail: detail,
	}); err != nil {
		return 0, err
	}
	return cleared.Cleared, tx.Commit(ctx)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
