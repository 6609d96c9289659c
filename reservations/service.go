// Package reservations holds the actions on reservations — reserve, approve, reject, cancel,
// settle, expire — each one Postgres transaction built from sqlc's conditional updates, with
// its audit row and its follow-up jobs inserted in that same transaction (DESIGN §3).
package reservations

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/audit"
	"tally/queries"
)

// Reservation statuses (DESIGN §2).
const (
	StatusHeld      = "held"
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusCancelled = "cancelled"
	StatusExpired   = "expired"
	StatusSettled   = "settled"
)

// Statuses lists every status in the order of the state machine.
var Statuses = []string{StatusHeld, StatusApproved, StatusSettled, StatusRejected, StatusCancelled, StatusExpired}

// Reservation is one reservation as it is stored.
type Reservation struct {
	ID            int64
	SlotID        int64
	CustomerID    int64
	Seats         int32
	AmountCents   int64
	Currency      string
	Status        string
	HoldExpiresAt time.Time
	CreatedBy     *int64
	ApprovedBy    *int64
	ApprovedAt    *time.Time
	SettledBy     *int64
	SettledAt     *time.Time
	ClosedBy      *int64
	ClosedAt      *time.Time
	Version       int32
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Actor is who acts (see tally.Actor).
type Actor = tally.Actor

// JobInserter inserts River jobs in a transaction; *river.Client is one.
type JobInserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Config tunes the actions.
type Config struct {
	// HoldFor is how long a new reservation holds its seats before it expires.
	HoldFor time.Duration
	// FeeBasisPoints is the partner's fee on a settlement, in hundredths of a percent.
	FeeBasisPoints int64
	// BatchSize bounds how many reservations one bulk transaction settles.
	BatchSize int
	// Logger records what went wrong inside a bulk action, where no error is returned.
	Logger *slog.Logger
}

// Service runs the actions.
type Service struct {
	pool *pgxpool.Pool
	q    *queries.Queries
	jobs JobInserter
	cfg  Config
}

// NewService returns a Service that inserts follow-up jobs with jobs.
func NewService(pool *pgxpool.Pool, jobs JobInserter, cfg Config) *Service {
	if cfg.HoldFor == 0 {
		cfg.HoldFor = 15 * time.Minute
	}
	if cfg.FeeBasisPoints == 0 {
		cfg.FeeBasisPoints = 290
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 50
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{pool: pool, q: queries.New(pool), jobs: jobs, cfg: cfg}
}

// Outcome is what an action did: the reservation as it now is and a sentence for the user.
// Replayed is true when the idempotency key had been used for this request before, and
// nothing was done this time.
type Outcome struct {
	Reservation Reservation
	Message     string
	Replayed    bool
}

// ValidKey reports whether key can be an idempotency key: 8 to 200 visible ASCII characters.
// Keys minted by forms are hex; API clients send UUIDs or the like. Anything else (spaces,
// control characters, multi-byte text, bytes that are not UTF-8) is refused before it
// reaches the database, whose CHECK counts characters, not bytes.
func ValidKey(key string) bool {
	if len(key) < 8 || len(key) > 200 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '!' || key[i] > '~' {
			return false
		}
	}
	return true
}

// storedOutcome is what idempotency_keys keeps of an outcome.
type storedOutcome struct {
	ReservationID int64  `json:"reservation_id"`
	Message       string `json:"message"`
}

// act runs one safe action (DESIGN §3): a transaction that first claims (actor, key), then
// runs do, then records the outcome under the key, and commits. A key seen before with the
// same fingerprint returns the stored outcome and does nothing; with another fingerprint it
// is refused (422); a key whose first request is still running gets a 409. An error from do
// rolls everything back: no seat taken, no audit row, no job, no key.
func (s *Service) act(ctx context.Context, actor Actor, key, fingerprint string,
	do func(q *queries.Queries, tx pgx.Tx) (Outcome, error),
) (Outcome, error) {
	if !ValidKey(key) {
		return Outcome{}, tally.Errorf(tally.EINVALID, "This request has no valid idempotency key (8 to 200 visible ASCII characters). Reload the page and try again.")
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Outcome{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := queries.New(tx)

	locked, err := q.IdempotencyKeyLock(ctx, queries.IdempotencyKeyLockParams{ActorID: actor.ID, Key: key})
	if err != nil {
		return Outcome{}, err
	}
	if !locked {
		return Outcome{}, tally.Errorf(tally.ECONFLICT, "This request is already being processed. Wait a moment, then reload the page.")
	}
	prev, err := q.IdempotencyKeyGet(ctx, queries.IdempotencyKeyGetParams{ActorID: actor.ID, Key: key})
	if err == nil {
		return s.replay(ctx, q, prev, fingerprint)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return Outcome{}, err
	}

	out, err := do(q, tx)
	if err != nil {
		return Outcome{}, err
	}
	stored, _ := json.Marshal(storedOutcome{ReservationID: out.Reservation.ID, Message: out.Message})
	if err := q.IdempotencyKeyInsert(ctx, queries.IdempotencyKeyInsertParams{
		ActorID: actor.ID, Key: key, Fingerprint: fingerprint, Outcome: stored,
	}); err != nil {
		return Outcome{}, err
	}
	return out, tx.Commit(ctx)
}

func (s *Service) replay(ctx context.Context, q *queries.Queries, prev queries.IdempotencyKey, fingerprint string) (Outcome, error) {
	if prev.Fingerprint != fingerprint {
		return Outcome{}, tally.Errorf(tally.EUNPROCESSABLE,
			"This form was already used for a different request. Reload the page and try again.")
	}
	var stored storedOutcome
	if err := json.Unmarshal(prev.Outcome, &stored); err != nil {
		return Outcome{}, err
	}
	r, err := q.ReservationGet(ctx, stored.ReservationID)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Reservation: Reservation(r), Message: stored.Message, Replayed: true}, nil
}

// record writes the audit row of a change to a reservation.
func record(ctx context.Context, tx pgx.Tx, actor Actor, key, action string, r queries.Reservation, from string, detail map[string]any) error {
	return audit.Record(ctx, tx, audit.Entry{
		Actor: actor, Action: action, RecordType: audit.RecordReservation, RecordID: r.ID,
		From: from, To: r.Status, IdempotencyKey: key, Detail: detail,
	})
}

// notFound turns pgx.ErrNoRows into ENOTFOUND.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return tally.Errorf(tally.ENOTFOUND, format, args...)
	}
	return err
}
