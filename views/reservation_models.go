package views

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"tally/queries"
)

// ReservationRow is one line of the reservations list.
type ReservationRow struct {
	ID            int64
	Status        string
	Customer      string
	CustomerEmail string
	Resource      string
	SlotStartsAt  time.Time
	Seats         int32
	Amount        string
	HoldExpiresAt time.Time
}

// ReservationFilter is the list's filter as the user typed it (re-shown in the form).
type ReservationFilter struct {
	Status     string
	ResourceID string
	SlotID     string
	CustomerID string
	From       string
	To         string
	Search     string
	Sort       string
}

// StatusCount is how many reservations (under the other filters) have a status.
type StatusCount struct {
	Status string
	Count  int64
	URL    string
	Active bool
}

// Option is a choice in a <select>.
type Option struct {
	Value    string
	Label    string
	Disabled bool
}

// ReservationList is the reservations page.
type ReservationList struct {
	Filter    ReservationFilter
	Counts    []StatusCount
	Total     int64
	AllURL    string
	Rows      []ReservationRow
	NextURL   string
	FirstURL  string
	Resources []Option
}

// ReservationDetail is one reservation's page.
type ReservationDetail struct {
	Row     queries.ReservationDetailRow
	Amount  string
	Ledger  []LedgerLine
	Audit   []queries.AuditEvent
	Jobs    []JobLine
	JobsErr string
}

// LedgerLine is one ledger entry.
type LedgerLine struct {
	Txn     string
	Account string
	Amount  string
	At      time.Time
}

// JobLine is one of a reservation's jobs, as River reports it.
type JobLine struct {
	ID          int64
	Kind        string
	Queue       string
	State       string
	Attempt     int
	MaxAttempts int
	LastError   string
	ScheduledAt time.Time
	FinalizedAt *time.Time
}

// NewReservationForm is the new-reservation form.
type NewReservationForm struct {
	SlotID     string
	CustomerID string
	Seats      string
	Error      string
	Slots      []Option
	Resources  []Option
	Customers  []Option
	Key        string
}

// BulkOutcome is the result of a bulk settle.
type BulkOutcome struct {
	Settled int
	Failed  int
	Items   []BulkLine
}

// BulkLine is one reservation's outcome in a bulk settle.
type BulkLine struct {
	ID      int64
	Settled bool
	Message string
}

// SlotLine is one slot on the slots page.
type SlotLine struct {
	ID       int64
	Resource string
	StartsAt time.Time
	Capacity int32
	Reserved int32
	Price    string
}

// ResourceLine is one resource on the slots page.
type ResourceLine struct {
	ID       int64
	Name     string
	Kind     string
	Slots    int64
	Capacity int64
	Reserved int64
}

// NewKey mints an idempotency key for one form or button, at render time.
func NewKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// actionVals is the hx-vals of a row action: a fresh key, and that the answer is a row.
func actionVals() string { return `{"idempotency_key": "` + NewKey() + `", "view": "row"}` }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatTime(*t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func byline(email string) string {
	if email == "" {
		return ""
	}
	return "by " + email
}

func anyUnfinished(jobs []JobLine) bool {
	for _, j := range jobs {
		if j.FinalizedAt == nil {
			return true
		}
	}
	return false
}
