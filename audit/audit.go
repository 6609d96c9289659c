// Package audit is Tally's one audit writer and its reader. Every change, whoever makes it
// (staff, operator, engineer, admin, or the system), is recorded through Record inside the
// transaction that makes the change, so a rollback leaves no audit row behind.
package audit

import (
	"context"
	"encoding/json"
	"time"

	"tally"
	"tally/queries"
)

// Record types: what an audit row is about.
const (
	RecordReservation      = "reservation"
	RecordUser             = "user"
	RecordSignIn           = "sign_in" // a sign-in limit on an email or address that names no account
	RecordJob              = "job"
	RecordQueue            = "queue"
	RecordSettlementReport = "settlement_report"
	RecordPartner          = "partner"
	RecordQueryComparison  = "query_comparison"
)

// RecordTypes lists every record type, for the audit log's filter.
var RecordTypes = []string{RecordReservation, RecordUser, RecordSignIn, RecordJob, RecordQueue,
	RecordSettlementReport, RecordPartner, RecordQueryComparison}

// Entry is one change to record.
type Entry struct {
	Actor          tally.Actor
	Action         string // "approve", "user.role", …
	RecordType     string
	RecordID       int64
	From, To       string // states before and after; empty when there is none
	IdempotencyKey string
	Detail         map[string]any
}

// Record writes e through db, which should be the transaction making the change.
func Record(ctx context.Context, db queries.DBTX, e Entry) error {
	detail := []byte("{}")
	if e.Detail != nil {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return err
		}
	}
	actor := e.Actor.Email
	if actor == "" {
		actor = "system"
	}
	return queries.New(db).AuditInsert(ctx, queries.AuditInsertParams{
		ActorID: nonZero(e.Actor.ID), Actor: actor, Action: e.Action, RecordType: e.RecordType, RecordID: e.RecordID,
		FromStatus: nonEmpty(e.From), ToStatus: nonEmpty(e.To), RequestID: nonEmpty(e.Actor.RequestID),
		IdempotencyKey: nonEmpty(e.IdempotencyKey), Detail: detail,
	})
}

// Event is one recorded change.
type Event struct {
	ID         int64
	At         time.Time
	ActorID    int64 // zero for the system
	Actor      string
	Action     string
	RecordType string
	RecordID   int64
	From, To   string
	RequestID  string
}

// Filter narrows the audit log; zero fields match everything.
type Filter struct {
	Actor, Action, RecordType string
	RecordID                  int64
	// BeforeID is the keyset cursor: events older than this one.
	BeforeID int64
	Limit    int32
}

// Log reads the audit log.
type Log struct{ q *queries.Queries }

// NewLog returns a Log reading through db.
func NewLog(db queries.DBTX) *Log { return &Log{q: queries.New(db)} }

// List returns the newest events f matches, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Event, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := l.q.AuditListLatest(ctx, queries.AuditListLatestParams{
		Actor: nonEmpty(f.Actor), Action: nonEmpty(f.Action), RecordType: nonEmpty(f.RecordType),
		RecordID: nonZero(f.RecordID), BeforeID: nonZero(f.BeforeID), RowLimit: f.Limit,
	})
	return events(rows), err
}

// OfRecord returns the history of one record, oldest first.
func (l *Log) OfRecord(ctx context.Context, recordType string, id int64) ([]Event, error) {
	rows, err := l.q.AuditListByRecord(ctx, queries.AuditListByRecordParams{RecordType: recordType, RecordID: id})
	return events(rows), err
}

func events(rows []queries.AuditEvent) []Event {
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = Event{
			ID: r.ID, At: r.At, Actor: r.Actor, Action: r.Action, RecordType: r.RecordType, RecordID: r.RecordID,
			From: deref(r.FromStatus), To: deref(r.ToStatus), RequestID: deref(r.RequestID),
		}
		if r.ActorID != nil {
			out[i].ActorID = *r.ActorID
		}
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonZero(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
