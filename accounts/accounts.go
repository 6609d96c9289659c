// Package accounts signs people in and manages their accounts: passwords, roles, sessions,
// the sign-in limits and the demo accounts.
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

// Password lengths: OWASP's minimum for passwords without other factors, and a maximum that
// keeps hashing cheap.
const (
	MinPasswordLen = 10
	maxPasswordLen = 200
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

// Get returns the user with id, or ENOTFOUND.
func (s *Service) Get(ctx context.Context, id int64) (User, error) {
	u, err := s.q.UserGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, tally.Errorf(tally.ENOTFOUND, "No user %d.", id)
	}
	return userFrom(u), err
}

// List returns every user, or those whose email or name contains search.
func (s *Service) List(ctx context.Context, search string) ([]User, error) {
	rows, err := s.q.UserList(ctx, strings.TrimSpace(search))
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
	return validatePassword(u.Password)
}

func validatePassword(password string) error {
	if len(password) < MinPasswordLen || len(password) > maxPasswordLen {
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
	return s.change(ctx, actor, "user.create", func(q *queries.Queries) (queries.User, string, string, error) {
		user, err := q.UserInsert(ctx, queries.UserInsertParams{Email: u.Email, Name: u.Name, Role: string(u.Role), PasswordHash: hash})
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return user, "", "", tally.Errorf(tally.ECONFLICT, "A user with the email %s already exists.", u.Email)
		}
		return user, "", string(u.Role), err
	})
}

// SetRole changes a user's role. Nobody changes their own role, and the last enabled admin
// keeps theirs: the admins' rows are locked first, so two admins demoting each other at
// once leave one admin, not none.
func (s *Service) SetRole(ctx context.Context, actor tally.Actor, id int64, role tally.Role) (RoleChange, error) {
	if !role.Valid() {
		return RoleChange{}, tally.Errorf(tally.EINVALID, "Choose a role: admin, staff, operator or engineer.")
	}
	if id == actor.ID {
		return RoleChange{}, tally.Errorf(tally.ECONFLICT, "You cannot change your own role; another admin can.")
	}
	var from tally.Role
	u, err := s.change(ctx, actor, "user.role", func(q *queries.Queries) (queries.User, string, string, error) {
		if role != tally.RoleAdmin {
			if _, err := q.UserLockEnabledAdmins(ctx); err != nil {
				return queries.User{}, "", "", err
			}
		}
		r, err := q.UserSetRole(ctx, queries.UserSetRoleParams{ID: id, Role: string(role)})
		if errors.Is(err, pgx.ErrNoRows) {
			return queries.User{}, "", "", s.whyUnchanged(ctx, q, id, "%s is the last admin. Make someone else admin first.")
		}
		from = tally.Role(r.OldRole)
		return queries.User{ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, PasswordHash: r.PasswordHash, Demo: r.Demo,
			DisabledAt: r.DisabledAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, r.OldRole, r.Role, err
	})
	return RoleChange{User: u, From: from}, err
}

// RoleChange is a user after a role change, with the role they had before.
type RoleChange struct {
	User
	From tally.Role
}

// SetDisabled disables or re-enables a user. A disabled user cannot sign in, and their
// sessions end. Nobody disables themselves, and the last enabled admin stays enabled (see
// SetRole).
func (s *Service) SetDisabled(ctx context.Context, actor tally.Actor, id int64, disabled bool) (User, error) {
	action, from, to := "user.enable", "disabled", "active"
	if disabled {
		action, from, to = "user.disable", "active", "disabled"
		if id == actor.ID {
			return User{}, tally.Errorf(tally.ECONFLICT, "You cannot disable your own account; another admin can.")
		}
	}
	return s.change(ctx, actor, action, func(q *queries.Queries) (queries.User, string, string, error) {
		if disabled {
			if _, err := q.UserLockEnabledAdmins(ctx); err != nil {
				return queries.User{}, "", "", err
			}
		}
		u, err := q.UserSetDisabled(ctx, queries.UserSetDisabledParams{ID: id, Disabled: disabled})
		if errors.Is(err, pgx.ErrNoRows) {
			return u, "", "", s.whyUnchanged(ctx, q, id, "%s is the last admin. Make someone else admin before disabling them.")
		} else if err != nil {
			return u, "", "", err
		}
		if disabled {
			if _, err := q.UserSessionsEnd(ctx, id); err != nil {
				return u, "", "", err
			}
		}
		return u, from, to, nil
	})
}

// whyUnchanged explains a conditional update that changed no row: no such user, or (with
// lastAdmin, given the email) the last admin.
func (s *Service) whyUnchanged(ctx context.Context, q *queries.Queries, id int64, lastAdmin string) error {
	u, err := q.UserGet(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return tally.Errorf(tally.ENOTFOUND, "There is no such user.")
	} else if err != nil {
		return err
	}
	return tally.Errorf(tally.ECONFLICT, lastAdmin, u.Email)
}

// change runs one change to an account and its audit row in one transaction. do returns the
// user as changed and the states before and after, for the audit row.
func (s *Service) change(ctx context.Context, actor tally.Actor, action string, do func(*queries.Queries) (queries.User, string, string, error)) (User, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return User{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	u, from, to, err := do(queries.New(tx))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, tally.Errorf(tally.ENOTFOUND, "There is no such user.")
	} else if err != nil {
		return User{}, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		Actor: actor, Action: action, RecordType: audit.RecordUser, RecordID: u.ID, From: from, To: to,
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
