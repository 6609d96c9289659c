// Package accounts signs people in and manages their accounts: passwords, roles, the
// sign-in rate limit and the demo accounts.
package accounts

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"tally"
	"tally/audit"
	"tally/queries"
)

// Sign-in limits: failures inside the window, per account and per client address.
const (
	LoginWindow          = 15 * time.Minute
	MaxFailuresPerEmail  = 5
	MaxFailuresPerIP     = 20
	MinPasswordLen       = 10
	maxPasswordLen       = 200
	badCredentialMessage = "Wrong email or password."
)

// DemoPassword is the password of every demo account (they exist only in demo mode).
const DemoPassword = "tally-demo"

// DemoAccounts are the accounts demo mode creates, one per role.
var DemoAccounts = []struct {
	Email string
	Name  string
	Role  tally.Role
}{
	{"admin@tally.test", "Ada Admin", tally.RoleAdmin},
	{"staff@tally.test", "Sam Staff", tally.RoleStaff},
	{"operator@tally.test", "Olu Operator", tally.RoleOperator},
	{"engineer@tally.test", "Eve Engineer", tally.RoleEngineer},
}

// User is a person who can sign in.
type User struct {
	ID         int64
	Email      string
	Name       string
	Role       tally.Role
	Demo       bool
	DisabledAt *time.Time
	CreatedAt  time.Time
}

func userFrom(u queries.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: tally.Role(u.Role), Demo: u.Demo, DisabledAt: u.DisabledAt, CreatedAt: u.CreatedAt}
}

// Service signs users in and changes accounts.
type Service struct {
	pool *pgxpool.Pool
	q    *queries.Queries
	// DemoMode lets demo accounts sign in.
	demoMode bool
	// dummyHash is compared against when the email is unknown, so that unknown and known
	// accounts take the same time to refuse.
	dummyHash string
}

// NewService returns a Service over pool.
func NewService(pool *pgxpool.Pool, demoMode bool) *Service {
	dummy, _ := HashPassword("not a real password")
	return &Service{pool: pool, q: queries.New(pool), demoMode: demoMode, dummyHash: dummy}
}

// Authenticate checks email and password for a sign-in from ip. Every refusal says the same
// thing, whatever the reason, so that it tells nothing about which accounts exist. Too many
// recent failures for the account or the address give ETOOMANY before the password is looked at.
func (s *Service) Authenticate(ctx context.Context, email, password, ip string) (User, error) {
	email = normalizeEmail(email)
	if len(email) > 254 { // no account has one so long; don't store it
		email = "(too long)"
	}
	since := time.Now().Add(-LoginWindow)
	byEmail, err := s.q.LoginFailureCountByEmail(ctx, queries.LoginFailureCountByEmailParams{Email: email, Since: since})
	if err != nil {
		return User{}, err
	}
	byIP, err := s.q.LoginFailureCountByIP(ctx, queries.LoginFailureCountByIPParams{Ip: ip, Since: since})
	if err != nil {
		return User{}, err
	}
	if byEmail >= MaxFailuresPerEmail || byIP >= MaxFailuresPerIP {
		return User{}, tally.Errorf(tally.ETOOMANY, "Too many failed sign-ins. Wait %d minutes and try again.", int(LoginWindow.Minutes()))
	}

	user, err := s.q.UserGetByEmail(ctx, email)
	if errors.Is(err, pgx.ErrNoRows) {
		CheckPassword(s.dummyHash, password)
	} else if err != nil {
		return User{}, err
	}
	ok := err == nil && len(password) <= maxPasswordLen && CheckPassword(user.PasswordHash, password) &&
		user.DisabledAt == nil && (!user.Demo || s.demoMode)
	if err := s.q.LoginAttemptInsert(ctx, queries.LoginAttemptInsertParams{Email: email, Ip: ip, Succeeded: ok}); err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, tally.Errorf(tally.EUNAUTHORIZED, badCredentialMessage)
	}
	return userFrom(user), nil
}

// Get returns the user with id, or ENOTFOUND.
func (s *Service) Get(ctx context.Context, id int64) (User, error) {
	u, err := s.q.UserGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, tally.Errorf(tally.ENOTFOUND, "No user %d.", id)
	}
	return userFrom(u), err
}

// List returns every user.
func (s *Service) List(ctx context.Context) ([]User, error) {
	rows, err := s.q.UserList(ctx)
	users := make([]User, len(rows))
	for i, u := range rows {
		users[i] = userFrom(u)
	}
	return users, err
}

// Overview is the dashboard's picture of accounts: enabled users per role, open sessions and
// failed sign-ins in the last LoginWindow.
type Overview struct {
	UsersByRole    map[tally.Role]int64
	ActiveSessions int64
	FailedSignIns  int64
}

// Overview counts the accounts for the dashboard.
func (s *Service) Overview(ctx context.Context) (Overview, error) {
	o := Overview{UsersByRole: map[tally.Role]int64{}}
	roles, err := s.q.UserCountByRole(ctx)
	if err != nil {
		return o, err
	}
	for _, r := range roles {
		o.UsersByRole[tally.Role(r.Role)] = r.Users
	}
	if o.ActiveSessions, err = s.q.SessionCountActive(ctx); err != nil {
		return o, err
	}
	o.FailedSignIns, err = s.q.LoginFailureCountSince(ctx, time.Now().Add(-LoginWindow))
	return o, err
}

// NewUser is what it takes to create an account.
type NewUser struct {
	Email    string
	Name     string
	Role     tally.Role
	Password string
}

// Validate returns EINVALID naming the first problem with u.
func (u NewUser) Validate() error {
	if _, err := mail.ParseAddress(u.Email); err != nil || strings.ContainsAny(u.Email, " <>") || len(u.Email) > 254 {
		return tally.Errorf(tally.EINVALID, "Enter a valid email address.")
	}
	if len(u.Name) > 200 {
		return tally.Errorf(tally.EINVALID, "The name is too long (200 characters at most).")
	}
	if !u.Role.Valid() {
		return tally.Errorf(tally.EINVALID, "Choose a role: admin, staff, operator or engineer.")
	}
	if len(u.Password) < MinPasswordLen || len(u.Password) > maxPasswordLen {
		return tally.Errorf(tally.EINVALID, "The password needs %d to %d characters.", MinPasswordLen, maxPasswordLen)
	}
	return nil
}

// Create makes a real (non-demo) account, audited as done by actor.
func (s *Service) Create(ctx context.Context, actor tally.Actor, u NewUser) (User, error) {
	u.Email = normalizeEmail(u.Email)
	u.Name = strings.TrimSpace(u.Name)
	if err := u.Validate(); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(u.Password)
	if err != nil {
		return User{}, err
	}
	return s.change(ctx, actor, "user.create", string(u.Role), func(q *queries.Queries) (queries.User, error) {
		user, err := q.UserInsert(ctx, queries.UserInsertParams{Email: u.Email, Name: u.Name, Role: string(u.Role), PasswordHash: hash})
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return user, tally.Errorf(tally.ECONFLICT, "A user with the email %s already exists.", u.Email)
		}
		return user, err
	})
}

// SetRole changes a user's role.
func (s *Service) SetRole(ctx context.Context, actor tally.Actor, id int64, role tally.Role) (User, error) {
	if !role.Valid() {
		return User{}, tally.Errorf(tally.EINVALID, "Choose a role: admin, staff, operator or engineer.")
	}
	return s.change(ctx, actor, "user.role", string(role), func(q *queries.Queries) (queries.User, error) {
		return q.UserSetRole(ctx, queries.UserSetRoleParams{ID: id, Role: string(role)})
	})
}

// SetDisabled disables or re-enables a user. A disabled user cannot sign in, and their open
// sessions end at their next request.
func (s *Service) SetDisabled(ctx context.Context, actor tally.Actor, id int64, disabled bool) (User, error) {
	action, to := "user.enable", "active"
	if disabled {
		action, to = "user.disable", "disabled"
	}
	return s.change(ctx, actor, action, to, func(q *queries.Queries) (queries.User, error) {
		return q.UserSetDisabled(ctx, queries.UserSetDisabledParams{ID: id, Disabled: disabled})
	})
}

// change runs one change to an account and its audit row in one transaction.
func (s *Service) change(ctx context.Context, actor tally.Actor, action, to string, do func(*queries.Queries) (queries.User, error)) (User, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return User{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	u, err := do(queries.New(tx))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, tally.Errorf(tally.ENOTFOUND, "There is no such user.")
	} else if err != nil {
		return User{}, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		Actor: actor, Action: action, RecordType: audit.RecordUser, RecordID: u.ID, To: to,
		Detail: map[string]any{"email": u.Email, "role": u.Role},
	}); err != nil {
		return User{}, err
	}
	return userFrom(u), tx.Commit(ctx)
}

// EnsureDemoAccounts creates (or resets) the demo accounts. A real account with the same
// email is left alone.
func (s *Service) EnsureDemoAccounts(ctx context.Context) error {
	hash, err := HashPassword(DemoPassword)
	if err != nil {
		return err
	}
	for _, a := range DemoAccounts {
		if err := s.q.UserUpsertDemo(ctx, queries.UserUpsertDemoParams{
			Email: a.Email, Name: a.Name, Role: string(a.Role), PasswordHash: hash,
		}); err != nil {
			return err
		}
	}
	return nil
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
