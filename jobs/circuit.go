package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sony/gobreaker/v2"

	"tally/queries"
)

// Circuit states, as gobreaker names them.
const (
	CircuitClosed   = "closed"
	CircuitOpen     = "open"
	CircuitHalfOpen = "half-open"
)

// partnerName is the partner_circuit row of Tally's one partner.
const partnerName = "partner"

// CircuitStatus is the partner circuit breaker as the workers last wrote it.
type CircuitStatus struct {
	// State is closed (calls go through), open (calls are held back: partner jobs snooze
	// until the next probe) or half-open (a probe call is let through, or is due: the next
	// partner job tries it). An open breaker whose probe time has passed is reported
	// half-open, as gobreaker itself reports it.
	State string
	// Failures is how many partner calls had failed in a row when the breaker was last
	// written, and LastError the last one's error.
	Failures  int
	LastError string
	// OpenedAt is when the breaker opened after working (a failed probe does not move it);
	// NextProbeAt is when an open breaker lets a probe through. Both nil once it is closed.
	OpenedAt    *time.Time
	NextProbeAt *time.Time
	// Worker is the process that wrote it, ChangedAt when. Known is false when no worker has
	// written one yet: the breaker is closed.
	Worker    string
	ChangedAt time.Time
	Known     bool
}

// Circuit reads the partner circuit through db (a pool or a transaction): what the
// dashboard and the jobs overview show.
func Circuit(ctx context.Context, db queries.DBTX) (CircuitStatus, error) {
	row, err := queries.New(db).PartnerCircuitGet(ctx, partnerName)
	if errors.Is(err, pgx.ErrNoRows) {
		return CircuitStatus{State: CircuitClosed}, nil
	} else if err != nil {
		return CircuitStatus{}, err
	}
	st := CircuitStatus{
		State: row.State, Failures: int(row.Failures), OpenedAt: row.OpenedAt, NextProbeAt: row.NextProbeAt,
		Worker: row.Worker, ChangedAt: row.ChangedAt, Known: true,
	}
	if row.LastError != nil {
		st.LastError = *row.LastError
	}
	if st.State == CircuitOpen && st.NextProbeAt != nil && !time.Now().Before(*st.NextProbeAt) {
		st.State = CircuitHalfOpen
	}
	return st, nil
}

// ClientCircuit is Circuit for a process that holds River's client rather than a pool (the
// web server): it reads in a transaction that River's driver begins on the client's pool.
func ClientCircuit(ctx context.Context, c *Client) (CircuitStatus, error) {
	var st CircuitStatus
	err := inClientTx(ctx, c, func(tx pgx.Tx) error {
		var err error
		st, err = Circuit(ctx, tx)
		return err
	})
	return st, err
}

// inClientTx runs fn in a transaction on the database of River's client c, committed when fn
// succeeds. The web server holds the client, not the pool it was built on; the client's
// driver begins the transaction there.
func inClientTx(ctx context.Context, c *Client, fn func(pgx.Tx) error) error {
	d := c.Driver()
	etx, err := d.GetExecutor().Begin(ctx)
	if err != nil {
		return err
	}
	tx := d.UnwrapTx(etx)
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// CircuitOpenError is what a partner call returns while the breaker holds calls back.
// RetryIn is when it is worth trying again: the next probe.
type CircuitOpenError struct {
	RetryIn time.Duration
}

// Error says the circuit is open and when it lets a call through again.
func (e *CircuitOpenError) Error() string {
	return fmt.Sprintf("partner circuit open: next try in %s", e.RetryIn.Round(time.Millisecond))
}

// CircuitConfig tunes the partner circuit breaker.
type CircuitConfig struct {
	// OpenFor is how long the breaker stays open before it lets one probe call through.
	OpenFor time.Duration
	// Failures in a row that open it.
	Failures int
}

// circuit is the partner circuit breaker of one worker process: gobreaker decides, and every
// change of its state or of the failures in a row is written to partner_circuit for the
// console.
type circuit struct {
	cb     *gobreaker.CircuitBreaker[struct{}]
	cfg    CircuitConfig
	q      *queries.Queries
	log    *slog.Logger
	worker string

	mu        sync.Mutex // guards what follows; OnStateChange sets it under gobreaker's own lock
	state     gobreaker.State
	openedAt  time.Time
	nextProbe time.Time
	failures  int
	lastError string
	changedAt time.Time
	version   uint64 // counts changes; saved is the last one written
	saved     uint64

	saving     sync.Mutex // one write at a time; guards saveFailed
	saveFailed bool
}

func newCircuit(cfg CircuitConfig, q *queries.Queries, log *slog.Logger) *circuit {
	host, _ := os.Hostname()
	c := &circuit{cfg: cfg, q: q, log: log, worker: fmt.Sprintf("%s:%d", host, os.Getpid())}
	c.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name: partnerName,
		// One probe at a time while half-open: it closes the breaker or opens it again.
		MaxRequests: 1,
		// Counts of a closed breaker are of the last minute, in 10-second buckets.
		Interval:     time.Minute,
		BucketPeriod: 10 * time.Second,
		Timeout:      cfg.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			// A dead partner fails every call; a sick one, most of them.
			return int(n.ConsecutiveFailures) >= cfg.Failures || (n.Requests >= 20 && n.TotalFailures*2 >= n.Requests)
		},
		// A refusal (4xx) is the partner working: it answered.
		IsSuccessful: func(err error) bool {
			var perm *PermanentError
			return err == nil || errors.As(err, &perm)
		},
		// A call cut short on our side (a shutdown, a job cancelled) says nothing of the partner.
		IsExcluded:    func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: c.changed,
	})
	return c
}

// changed records a state change. gobreaker calls it holding its own lock: it must not call
// the breaker, nor wait on the database.
func (c *circuit) changed(_ string, from, to gobreaker.State) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = to
	switch to {
	case gobreaker.StateOpen:
		if from == gobreaker.StateClosed {
			c.openedAt = now
		}
		c.nextProbe = now.Add(c.cfg.OpenFor)
	case gobreaker.StateHalfOpen:
		c.nextProbe = time.Time{}
	case gobreaker.StateClosed:
		c.openedAt, c.nextProbe = time.Time{}, time.Time{}
	}
	c.changedAt = now
	c.version++
}

// call runs fn, a partner call, through the breaker. While the breaker holds calls back it
// returns a *CircuitOpenError and does not call fn.
func (c *circuit) call(ctx context.Context, fn func() error) error {
	_, err := c.cb.Execute(func() (struct{}, error) { return struct{}{}, fn() })
	switch {
	case errors.Is(err, gobreaker.ErrOpenState):
		return &CircuitOpenError{RetryIn: c.untilProbe()}
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		// Half-open, its one probe in flight: look again soon, when it has an answer.
		return &CircuitOpenError{RetryIn: time.Second + jitter(time.Second)}
	}
	c.count(err)
	c.save(ctx)
	return err
}

// count keeps the failures in a row, as the console shows them, by the breaker's rules: a
// refusal is the partner answering, a call cut short on our side says nothing.
func (c *circuit) count(err error) {
	var perm *PermanentError
	refused := errors.As(err, &perm)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case errors.Is(err, context.Canceled):
		return
	case err != nil && !refused:
		c.failures++
		c.lastError = err.Error()
	case c.failures > 0:
		c.failures = 0
	default:
		return
	}
	c.changedAt = time.Now()
	c.version++
}

// untilProbe is how long until the open breaker lets a probe through, spread a little so
// that the jobs held back do not all come back at the same instant.
func (c *circuit) untilProbe() time.Duration {
	c.mu.Lock()
	next := c.nextProbe
	c.mu.Unlock()
	return max(time.Until(next), 100*time.Millisecond) + jitter(c.cfg.OpenFor/10)
}

func jitter(upTo time.Duration) time.Duration {
	if upTo <= 0 {
		return 0
	}
	return rand.N(upTo)
}

// save writes the breaker if it changed since it was last written. Writes are serialized,
// so a later change is never overwritten by an earlier one from this process. A failed write
// is logged and tried again after the next call: the breaker itself does not depend on it.
func (c *circuit) save(ctx context.Context) {
	c.mu.Lock()
	dirty := c.version != c.saved
	c.mu.Unlock()
	if !dirty { // the common case: nothing changed, no lock held for a write
		return
	}
	c.saving.Lock()
	defer c.saving.Unlock()
	c.mu.Lock()
	version := c.version
	p := queries.PartnerCircuitSaveParams{
		Partner: partnerName, State: c.state.String(), Failures: int32(min(c.failures, 1<<30)),
		OpenedAt: timeOrNil(c.openedAt), NextProbeAt: timeOrNil(c.nextProbe), Worker: c.worker, ChangedAt: c.changedAt,
	}
	if c.lastError != "" {
		lastError := c.lastError
		p.LastError = &lastError
	}
	written := version == c.saved
	c.mu.Unlock()
	if written {
		return
	}
	// Not the job's own context: the job may be ending, and the console should still learn
	// what this call did to the breaker.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.q.PartnerCircuitSave(ctx, p); err != nil {
		if !c.saveFailed {
			c.log.Warn("writing the partner circuit", "err", err)
		}
		c.saveFailed = true
		return
	}
	c.saveFailed = false
	c.mu.Lock()
	c.saved = version
	c.mu.Unlock()
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
