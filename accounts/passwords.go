package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"tally"
	"tally/audit"
	"tally/queries"
)

// PasswordLinkValid is how long a set-password link works.
const PasswordLinkValid = 24 * time.Hour

// sessionsKept is how long a session's owner is remembered: longer than any session lives.
const sessionsKept = 7 * 24 * time.Hour

// TrackSession remembers that the session with token belongs to the user with userID, so
// that it can be ended with the user's other sessions (a new password, a disabled account).
// Records of sessions older than any session can live are forgotten on the way.
func (s *Service) TrackSession(ctx context.Context, userID int64, token string) error {
	if err := s.q.UserSessionPurge(ctx, queries.UserSessionPurgeParams{UserID: userID, Before: time.Now().Add(-sessionsKept)}); err != nil {
		return err
	}
	return s.q.UserSessionInsert(ctx, queries.UserSessionInsertParams{Token: token, UserID: userID})
}

// SetPassword gives a user a new password chosen by an admin, ends the user's sessions, and
// audits it (without the password). An admin's own password is not set here: it would sign
// them out, and a password is better chosen by its owner.
func (s *Service) SetPassword(ctx context.Context, actor tally.Actor, id int64, password string) (User, error) {
	if id == actor.ID {
		return User{}, tally.Errorf(tally.ECONFLICT, "You cannot set your own password here; another admin can, or ask for a set-password link.")
	}
	if err := validatePassword(password); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	return s.change(ctx, actor, "user.password", func(q *queries.Queries) (queries.User, string, string, error) {
		u, err := q.UserSetPassword(ctx, queries.UserSetPasswordParams{ID: id, PasswordHash: hash})
		if err != nil {
			return u, "", "", err
		}
		_, err = q.UserSessionsEnd(ctx, id)
		return u, "", "set by admin", err
	})
}

// PasswordLink is a one-time link for a user to set a password: Token goes into the link's
// address, and works once, until ExpiresAt.
type PasswordLink struct {
	User      User
	Token     string
	ExpiresAt time.Time
}

// CreatePasswordLink makes a set-password link for the user with id, for an admin to pass
// on. Earlier links for that user stop working. Only a hash of the token is stored.
func (s *Service) CreatePasswordLink(ctx context.Context, actor tally.Actor, id int64) (PasswordLink, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return PasswordLink{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	var expires time.Time
	u, err := s.change(ctx, actor, "user.password_link", func(q *queries.Queries) (queries.User, string, string, error) {
		u, err := q.UserGet(ctx, id)
		if err != nil {
			return u, "", "", err
		}
		var createdBy *int64
		if actor.ID != 0 {
			createdBy = &actor.ID
		}
		expires, err = q.PasswordLinkInsert(ctx, queries.PasswordLinkInsertParams{
			TokenHash: hashToken(token), UserID: id, CreatedBy: createdBy, ValidSecs: PasswordLinkValid.Seconds(),
		})
		return u, "", "link made", err
	})
	return PasswordLink{User: u, Token: token, ExpiresAt: expires}, err
}

// PasswordLinkUser returns the user a set-password link that still works is for, or
// ENOTFOUND.
func (s *Service) PasswordLinkUser(ctx context.Context, token string) (User, error) {
	u, err := s.q.PasswordLinkUser(ctx, hashToken(token))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, linkGone()
	}
	return userFrom(u), err
}

// SetPasswordWithLink sets the password of the user a set-password link is for, uses the link
// up and ends the user's sessions, audited as done by that user. A link used, replaced or
// expired is ENOTFOUND; of two uses at once, one wins.
func (s *Service) SetPasswordWithLink(ctx context.Context, token, password, requestID string) (User, error) {
	if err := validatePassword(password); err != nil {
		return User{}, err
	}
	// Look before hashing, so that guessing at links costs nobody a hash.
	if _, err := s.PasswordLinkUser(ctx, token); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return User{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := queries.New(tx)
	id, err := q.PasswordLinkUse(ctx, hashToken(token))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, linkGone()
	} else if err != nil {
		return User{}, err
	}
	u, err := q.UserSetPassword(ctx, queries.UserSetPasswordParams{ID: id, PasswordHash: hash})
	if err != nil {
		return User{}, err
	}
	if _, err := q.UserSessionsEnd(ctx, id); err != nil {
		return User{}, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		Actor:  tally.Actor{ID: u.ID, Email: u.Email, RequestID: requestID},
		Action: "user.password", RecordType: audit.RecordUser, RecordID: u.ID, To: "set with link",
		Detail: map[string]any{"email": u.Email},
	}); err != nil {
		return User{}, err
	}
	return userFrom(u), tx.Commit(ctx)
}

func linkGone() error {
	return tally.Errorf(tally.ENOTFOUND, "This link does not work any more: it has been used, replaced by a newer one, or has expired. Ask an admin for a new one.")
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
