package operations

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/jobs"
	"tally/queries"
)

// Job states, as River names them.
const (
	StateAvailable = string(rivertype.JobStateAvailable)
	StateCancelled = string(rivertype.JobStateCancelled)
	StateCompleted = string(rivertype.JobStateCompleted)
	StateDiscarded = string(rivertype.JobStateDiscarded)
	StatePending   = string(rivertype.JobStatePending)
	StateRetryable = string(rivertype.JobStateRetryable)
	StateRunning   = string(rivertype.JobStateRunning)
	StateScheduled = string(rivertype.JobStateScheduled)
)

// States lists every state in the order a job goes through them, the failed ones last.
var States = []string{StateAvailable, StateRunning, StateRetryable, StateScheduled, StatePending, StateCompleted,
	StateCancelled, StateDiscarded}

// FailedStates are the states of the jobs the failure groups are made of. Scheduled counts:
// a job that failed and is held back by the open circuit (snoozed) waits in it, its errors
// kept; a scheduled job that never failed has no error, so no group's pattern matches it.
var FailedStates = []string{StateDiscarded, StateRetryable, StateScheduled}

// finished reports whether a job in state has ended for good (River's "finalized").
func finished(state string) bool {
	return state == StateCompleted || state == StateCancelled || state == StateDiscarded
}

// Job is one River job as the console shows it.
type Job struct {
	ID          int64
	Kind        string
	Queue       string
	State       string
	Priority    int
	Attempt     int
	MaxAttempts int
	// Args and Metadata are the job's JSON, as stored.
	Args     json.RawMessage
	Metadata json.RawMessage
	Tags     []string
	// CreatedAt is when it was inserted, ScheduledAt when it is (or was) due to run: for a
	// retryable job, the time of its next attempt.
	CreatedAt   time.Time
	ScheduledAt time.Time
	// AttemptedAt is when its latest attempt started, FinalizedAt when it ended for good.
	AttemptedAt *time.Time
	FinalizedAt *time.Time
	// AttemptedBy are the River clients (worker processes) that fetched it, oldest first.
	AttemptedBy []string
	// Errors are its failed attempts' errors, oldest first.
	Errors []AttemptError
	// ReservationID is the reservation the job is about (its metadata, or its args); zero
	// when it is about none.
	ReservationID int64
	// CancelRequested is set once an operator asked a running job to stop.
	CancelRequested bool
	// Stuck is set when the job runs past its timeout (see Service.Stuck).
	Stuck *Stuck
}

// AttemptError is one failed attempt.
type AttemptError struct {
	Attempt int
	At      time.Time
	Error   string
	// Trace is the stack of a panic; empty for an ordinary error.
	Trace string
}

// Stuck says why a running job is taken for stuck and what becomes of it.
type Stuck struct {
	// Timeout is its kind's; Over how long its attempt has run past it.
	Timeout time.Duration
	Over    time.Duration
	// Worker is the River client running it, as it named itself.
	Worker string
	// RescueAt is about when River's rescuer takes it back (its attempt start plus the
	// workers' RescueAfter, at the rescuer's next pass): then it is retried, or discarded if
	// its attempts are used up, or cancelled if an operator asked it to stop.
	RescueAt time.Time
}

// LastError is the error of its latest failed attempt, or "".
func (j Job) LastError() string {
	if n := len(j.Errors); n > 0 {
		return j.Errors[n-1].Error
	}
	return ""
}

// NextRun is when the job runs next: for a job waiting to run (available, scheduled,
// retryable), its scheduled time; nil otherwise.
func (j Job) NextRun() *time.Time {
	switch j.State {
	case StateAvailable, StateScheduled, StateRetryable:
		t := j.ScheduledAt
		return &t
	}
	return nil
}

// Worker is the River client of its latest attempt, or "".
func (j Job) Worker() string {
	if n := len(j.AttemptedBy); n > 0 {
		return j.AttemptedBy[n-1]
	}
	return ""
}

// PrettyArgs is the args indented for reading.
func (j Job) PrettyArgs() string { return pretty(j.Args) }

// PrettyMetadata is the metadata indented for reading.
func (j Job) PrettyMetadata() string { return pretty(j.Metadata) }

func pretty(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// jobRefs is what the console reads in a job's metadata and args: the reservation it is
// about ("reservation_id", in the metadata by jobs.ForReservation, and in the args of notices
// and payouts) and whether an operator asked it to stop (River's cancel_attempted_at).
type jobRefs struct {
	ReservationID     int64 `json:"reservation_id"`
	CancelAttemptedAt any   `json:"cancel_attempted_at"`
}

func jobOf(r *rivertype.JobRow) Job {
	j := Job{
		ID: r.ID, Kind: r.Kind, Queue: r.Queue, State: string(r.State), Priority: r.Priority, Attempt: r.Attempt,
		MaxAttempts: r.MaxAttempts, Args: json.RawMessage(r.EncodedArgs), Metadata: json.RawMessage(r.Metadata), Tags: r.Tags,
		CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt, AttemptedAt: r.AttemptedAt, FinalizedAt: r.FinalizedAt,
		AttemptedBy: r.AttemptedBy,
	}
	for _, e := range r.Errors {
		j.Errors = append(j.Errors, AttemptError{Attempt: e.Attempt, At: e.At, Error: e.Error, Trace: e.Trace})
	}
	var meta, args jobRefs
	_ = json.Unmarshal(r.Metadata, &meta) // a job with odd metadata still shows
	_ = json.Unmarshal(r.EncodedArgs, &args)
	j.ReservationID = meta.ReservationID
	if j.ReservationID == 0 {
		j.ReservationID = args.ReservationID
	}
	j.CancelRequested = meta.CancelAttemptedAt != nil && r.State == rivertype.JobStateRunning
	return j
}

// stuck flags j if it runs past its timeout and margin at now.
func (s *Service) stuck(j *Job, now time.Time) {
	if j.State != StateRunning || j.AttemptedAt == nil {
		return
	}
	timeout := s.timeoutOf(j.Kind)
	over := now.Sub(*j.AttemptedAt) - timeout
	if over < s.cfg.StuckMargin {
		return
	}
	j.Stuck = &Stuck{Timeout: timeout, Over: over, Worker: j.Worker(),
		RescueAt: j.AttemptedAt.Add(s.cfg.Workers.RescueAfter + rescuerInterval)}
}

// rescuerInterval is how often River's rescuer looks for stuck jobs (River's default).
const rescuerInterval = 30 * time.Second

// Filter narrows the jobs a list shows or an action reaches; zero fields match everything.
type Filter struct {
	// States are the states to match; none is every state.
	States []string
	Kind   string
	Queue  string
	// ReservationID matches the jobs about that reservation.
	ReservationID int64
	// Error matches jobs any of whose attempts failed with an error containing it (case
	// insensitive, taken literally).
	Error string
	// Pattern matches the jobs whose last error masks to it exactly: one failure group.
	Pattern string
}

// Limits of a filter's text, in characters.
const (
	maxFilterText = 200
	maxNameText   = 128 // River's kinds and queues are shorter
)

// Validate checks a filter before it reaches the database: known states, text of sane
// length and valid UTF-8 (PostgreSQL refuses anything else, with an error in its log).
func (f Filter) Validate() error {
	for _, st := range f.States {
		if !slices.Contains(States, st) {
			return tally.Errorf(tally.EINVALID, "Unknown job state %q.", st)
		}
	}
	for _, v := range []struct {
		name, value string
		max         int
	}{
		{"kind", f.Kind, maxNameText}, {"queue", f.Queue, maxNameText}, {"error text", f.Error, maxFilterText},
		{"error pattern", f.Pattern, maxFilterText},
	} {
		if !utf8.ValidString(v.value) || strings.ContainsRune(v.value, 0) {
			return tally.Errorf(tally.EINVALID, "The %s filter is not text.", v.name)
		}
		if strings.ContainsAny(v.value, "\r\n") {
			return tally.Errorf(tally.EINVALID, "The %s filter is one line of text.", v.name)
		}
		if utf8.RuneCountInString(v.value) > v.max {
			return tally.Errorf(tally.EINVALID, "The %s filter is too long (%d characters at most).", v.name, v.max)
		}
	}
	if f.ReservationID < 0 {
		return tally.Errorf(tally.EINVALID, "A reservation id is a positive whole number.")
	}
	return nil
}

// Narrowed reports whether anything but the states narrows the filter.
func (f Filter) Narrowed() bool {
	return f.Kind != "" || f.Queue != "" || f.ReservationID != 0 || f.Error != "" || f.Pattern != ""
}

func (f Filter) states() []string {
	if len(f.States) == 0 {
		return States
	}
	return f.States
}

// The filter's predicates River has no parameter for, added to its list through Where. The
// named arguments are prefixed so as not to meet River's own (state, after_id, …). Each one
// has its twin in RiverJobCountMatching (queries/river_jobs.sql), which counts what these
// list: TestFilterCountsMatchLists holds them to each other. The error text is looked up in
// the trigram index of job_errors_text (migration 00009), a job's errors one per line: text
// of one line (Validate) found there is in one of its errors. (No "errors IS NOT NULL" beside
// it, which it implies: the planner would count it twice and take every match for rare.) The
// pattern is found through its own index (a job with no errors has no pattern).
const (
	whereReservation = `(metadata @> @ops_reservation::jsonb OR args @> @ops_reservation::jsonb)`
	whereError       = `job_errors_text(errors) ILIKE @ops_error_like::text`
	wherePattern     = `errors IS NOT NULL AND job_error_pattern(job_last_error(errors)) = @ops_pattern::text`
	// River turns one state into an equality only when no Where is given, and a kind is
	// always an ANY: as equalities, the state and kind fix the leading columns of the
	// (state, kind, finalized_at, id) index, which then gives the list in its order. Only
	// with a kind: beside River's ANY, the planner counts the state twice, takes it for rare,
	// and sorts every job an error text matches rather than walk them in order.
	whereState         = `state = @ops_state::river_job_state`
	whereFinishedState = `state = @ops_state::river_job_state AND finalized_at IS NOT NULL`
	whereKind          = `kind = @ops_kind::text`
)

// listParams is f as River's JobListParams, in River's default order (oldest id first).
func (f Filter) listParams() *river.JobListParams {
	p := river.NewJobListParams().States(riverStates(f.states())...)
	if len(f.States) == 1 && f.Kind != "" {
		if finished(f.States[0]) {
			p = p.Where(whereFinishedState, river.NamedArgs{"ops_state": f.States[0]})
		} else {
			p = p.Where(whereState, river.NamedArgs{"ops_state": f.States[0]})
		}
	}
	if f.Kind != "" {
		p = p.Where(whereKind, river.NamedArgs{"ops_kind": f.Kind})
	}
	if f.Queue != "" {
		p = p.Queues(f.Queue)
	}
	if f.ReservationID != 0 {
		p = p.Where(whereReservation, river.NamedArgs{"ops_reservation": jobs.ReservationMetadata(f.ReservationID)})
	}
	if f.Error != "" {
		p = p.Where(whereError, river.NamedArgs{"ops_error_like": likePattern(f.Error)})
	}
	if f.Pattern != "" {
		p = p.Where(wherePattern, river.NamedArgs{"ops_pattern": f.Pattern})
	}
	return p
}

// deleteParams is f as River's JobDeleteManyParams, limited to ids: the jobs of one batch,
// still matching f when they are deleted.
func (f Filter) deleteParams(ids []int64) *river.JobDeleteManyParams {
	p := river.NewJobDeleteManyParams().IDs(ids...).States(riverStates(f.states())...).First(max(len(ids), 1))
	if f.Kind != "" {
		p = p.Kinds(f.Kind)
	}
	if f.Queue != "" {
		p = p.Queues(f.Queue)
	}
	if f.ReservationID != 0 {
		p = p.Where(whereReservation, river.NamedArgs{"ops_reservation": jobs.ReservationMetadata(f.ReservationID)})
	}
	if f.Error != "" {
		p = p.Where(whereError, river.NamedArgs{"ops_error_like": likePattern(f.Error)})
	}
	if f.Pattern != "" {
		p = p.Where(wherePattern, river.NamedArgs{"ops_pattern": f.Pattern})
	}
	return p
}

// countParams is f as RiverJobCountMatching's parameters.
func (f Filter) countParams(limit int) queries.RiverJobCountMatchingParams {
	p := queries.RiverJobCountMatchingParams{Cap: int32(limit)}
	p.States = f.states()
	if f.Kind != "" {
		p.Kind = &f.Kind
	}
	if f.Queue != "" {
		p.Queue = &f.Queue
	}
	if f.ReservationID != 0 {
		p.Reservation = []byte(jobs.ReservationMetadata(f.ReservationID))
	}
	if f.Error != "" {
		like := likePattern(f.Error)
		p.ErrorLike = &like
	}
	if f.Pattern != "" {
		p.Pattern = &f.Pattern
	}
	return p
}

// likePattern is an ILIKE pattern matching text anywhere, taken literally: % and _ in what
// the operator typed are not wildcards.
func likePattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(text) + "%"
}

func riverStates(states []string) []rivertype.JobState {
	out := make([]rivertype.JobState, len(states))
	for i, st := range states {
		out[i] = rivertype.JobState(st)
	}
	return out
}
