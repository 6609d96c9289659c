// Package analysis is Tally's query-analysis console for engineers (DESIGN §6): it runs the
// application's own read queries (sqlc's, by their exported text) or one pasted read-only
// statement under EXPLAIN ANALYZE, parses the plan, and compares it with the plan a candidate
// index would give, hypothetically (HypoPG) or for real (built CONCURRENTLY, measured, dropped).
//
// A statement under analysis passes four walls: CheckStatement refuses what is plainly not one
// read-only statement; PostgreSQL's extended protocol refuses a second statement; the
// transaction is READ ONLY, under a role that may only read the business tables, with a
// statement and a lock timeout; and it is always rolled back, on a connection that is closed
// afterwards.
package analysis

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tally"
	"tally/queries"
)

// Config tunes the console. Zero values take the defaults.
type Config struct {
	// Timeout is an analysed statement's statement_timeout (default 5 s).
	Timeout time.Duration
	// LockTimeout is its lock_timeout (default 1 s): it only reads, and should never wait.
	LockTimeout time.Duration
	// BuildTimeout bounds a real-mode candidate index build (default 10 min).
	BuildTimeout time.Duration
	// Logger records what goes wrong in a comparison running in the background.
	Logger *slog.Logger
}

// Service runs analyses and keeps comparisons.
type Service struct {
	pool *pgxpool.Pool
	q    *queries.Queries
	cfg  Config
	log  *slog.Logger
	// wg counts the real comparisons running in the background.
	wg sync.WaitGroup
}

// NewService returns the console's service on pool.
func NewService(pool *pgxpool.Pool, cfg Config) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.LockTimeout <= 0 {
		cfg.LockTimeout = time.Second
	}
	if cfg.BuildTimeout <= 0 {
		cfg.BuildTimeout = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{pool: pool, q: queries.New(pool), cfg: cfg, log: cfg.Logger}
}

// Timeouts an engineer may choose for one run.
var Timeouts = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}

// Input is what an engineer asks to run: a catalogue query by name, or a pasted statement,
// with the parameters' values in $n order ("" for NULL).
type Input struct {
	Query  string
	SQL    string
	Values []string
}

// Result is one explained run.
type Result struct {
	Statement Statement
	Plan      *Plan
	Options   Options
}

// statementOf resolves in to the SQL to run and its parameter names: a catalogue query's
// own text (never the form's, so that it cannot drift from what the application runs), or
// the pasted statement.
func statementOf(in Input) (sql string, names []string, err error) {
	if in.Query == "" {
		return in.SQL, nil, nil
	}
	q, ok := Lookup(in.Query)
	if !ok {
		return "", nil, tally.Errorf(tally.ENOTFOUND, "There is no query %q in the catalogue.", in.Query)
	}
	if q.Refused != "" {
		return "", nil, tally.Errorf(tally.EUNPROCESSABLE, "%s cannot be analysed: %s", q.Name, q.Refused)
	}
	for _, a := range q.Args {
		names = append(names, a.Name)
	}
	return q.SQL, names, nil
}

// Explain runs in under EXPLAIN with o, on a connection of its own, and parses the plan.
func (s *Service) Explain(ctx context.Context, in Input, o Options) (Result, error) {
	sql, names, err := statementOf(in)
	if err != nil {
		return Result{}, err
	}
	if _, err := CheckStatement(sql); err != nil {
		return Result{}, err
	}
	if o.Timeout <= 0 {
		o.Timeout = s.cfg.Timeout
	}
	ss, err := s.openSession(ctx)
	if err != nil {
		return Result{}, err
	}
	defer ss.close()
	var res Result
	err = ss.readOnly(ctx, o.Timeout, func(tx pgx.Tx) error {
		st, err := prepare(ctx, tx, in.Query, sql, names, in.Values)
		if err != nil {
			return err
		}
		raw, err := explain(ctx, tx, st.SQL, st.oids, st.values(), o)
		if err != nil {
			return runError(err, o.Timeout)
		}
		plan, err := ParsePlan(raw)
		if err != nil {
			return err
		}
		res = Result{Statement: st, Plan: plan, Options: o}
		return nil
	})
	return res, err
}
