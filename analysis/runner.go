package analysis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tally"
)

// Role is the database role analysed statements run as (migrations/00007_query_analysis.sql):
// it may read the business tables and nothing else.
const Role = "tally_query_analysis"

// Options say how a statement is explained.
type Options struct {
	// Analyze runs the statement (EXPLAIN ANALYZE); without it the plan is the planner's guess.
	Analyze bool
	// Timing keeps per-node times (off for measured runs, where only the total counts and
	// the clock reads per row would add their own cost).
	Timing bool
	// Verbose and Settings add EXPLAIN's VERBOSE and SETTINGS.
	Verbose, Settings bool
	// Timeout bounds the statement (statement_timeout); zero is the service's default.
	Timeout time.Duration
}

// explainPrefix is the EXPLAIN wrapper: the only SQL written in Go for a statement under
// analysis. The options are fixed words; the statement follows as it was checked.
func explainPrefix(o Options) string {
	opts := []string{"FORMAT JSON"}
	if o.Analyze {
		opts = append(opts, "ANALYZE", "BUFFERS")
		if !o.Timing {
			opts = append(opts, "TIMING OFF")
		}
	}
	if o.Verbose {
		opts = append(opts, "VERBOSE")
	}
	if o.Settings {
		opts = append(opts, "SETTINGS")
	}
	return "EXPLAIN (" + strings.Join(opts, ", ") + ") "
}

// session is one dedicated connection for analysed statements. It is opened for one piece of
// work and closed after it, never returned to a pool: whatever a statement left in the
// session (a session lock, HypoPG's hypothetical indexes) ends with the connection.
type session struct {
	conn        *pgx.Conn
	timeout     time.Duration
	lockTimeout time.Duration
}

func (s *Service) openSession(ctx context.Context) (*session, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "tally query analysis"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("analysis: connecting: %w", err)
	}
	return &session{conn: conn, timeout: s.cfg.Timeout, lockTimeout: s.cfg.LockTimeout}, nil
}

func (ss *session) close() { ss.conn.Close(context.Background()) }

// readOnly runs fn in a read-only transaction under the analysis role, with the statement
// and lock timeouts set, and rolls it back whatever happens.
func (ss *session) readOnly(ctx context.Context, timeout time.Duration, fn func(tx pgx.Tx) error) error {
	if timeout <= 0 {
		timeout = ss.timeout
	}
	tx, err := ss.conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a failed rollback ends with the connection
	for _, set := range []string{
		"SET LOCAL statement_timeout = " + strconv.FormatInt(timeout.Milliseconds(), 10),
		"SET LOCAL lock_timeout = " + strconv.FormatInt(ss.lockTimeout.Milliseconds(), 10),
		"SET LOCAL idle_in_transaction_session_timeout = " + strconv.FormatInt((timeout+time.Minute).Milliseconds(), 10),
	} {
		if _, err := tx.Exec(ctx, set); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+Role); err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "42501" {
			// The migration could not make the application's user a member (it lacked the
			// right to): say what a superuser must grant.
			return tally.Errorf(tally.EUNPROCESSABLE, "Query analysis is not set up on this database: a superuser must run GRANT %s TO %s.",
				Role, pgx.Identifier{ss.conn.Config().User}.Sanitize())
		}
		return fmt.Errorf("analysis: SET ROLE %s: %w", Role, err)
	}
	return fn(tx)
}

// describe asks PostgreSQL for the types of the statement's parameters, without running it.
func describe(ctx context.Context, tx pgx.Tx, sql string) ([]uint32, error) {
	d, err := tx.Conn().PgConn().Prepare(ctx, "", sql, nil)
	if err != nil {
		return nil, err
	}
	return d.ParamOIDs, nil
}

// explain runs EXPLAIN on sql with the parameters as text, through the extended protocol:
// PostgreSQL itself refuses more than one statement there ("cannot insert multiple commands
// into a prepared statement"), whatever the checks before let through.
func explain(ctx context.Context, tx pgx.Tx, sql string, oids []uint32, values []*string, o Options) ([]byte, error) {
	args := make([][]byte, len(values))
	for i, v := range values {
		if v != nil {
			args[i] = []byte(*v)
		}
	}
	res := tx.Conn().PgConn().ExecParams(ctx, explainPrefix(o)+sql, args, oids, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return nil, fmt.Errorf("analysis: EXPLAIN returned %d rows", len(res.Rows))
	}
	return res.Rows[0][0], nil
}

// Statement is a statement ready to run: checked, its parameters typed and their values
// normalised.
type Statement struct {
	// Query is the catalogue query's name; empty for a pasted statement.
	Query  string
	SQL    string
	Params []Param
	oids   []uint32
}

// values are the parameters' values in $n order.
func (st Statement) values() []*string {
	out := make([]*string, len(st.Params))
	for i, p := range st.Params {
		out[i] = p.Value
	}
	return out
}

// NeedParams is the answer to a statement given without the values of its parameters: the
// parameters it has, for the form to ask for them.
type NeedParams struct {
	Params []Param
}

// Error says which parameters are missing.
func (e *NeedParams) Error() string {
	return fmt.Sprintf("the statement has %d parameters", len(e.Params))
}

// prepare checks sql, learns its parameters' types from PostgreSQL (inside tx, which runs as
// the analysis role), and checks the values against them. names name the parameters (the
// catalogue's); values are the texts given, "" for NULL.
func prepare(ctx context.Context, tx pgx.Tx, query, sql string, names []string, values []string) (Statement, error) {
	sql, err := CheckStatement(sql)
	if err != nil {
		return Statement{}, err
	}
	oids, err := describe(ctx, tx, sql)
	if err != nil {
		return Statement{}, runError(err, 0)
	}
	st := Statement{Query: query, SQL: sql, oids: oids}
	for i, oid := range oids {
		name := "$" + strconv.Itoa(i+1)
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		t := typeName(oid)
		if t == "" {
			return Statement{}, tally.Errorf(tally.EINVALID, "%s: parameters of this type (OID %d) cannot be given here.", name, oid)
		}
		st.Params = append(st.Params, Param{Name: name, Type: t})
	}
	if len(values) < len(oids) {
		for i := range st.Params {
			if i < len(values) && values[i] != "" {
				v := values[i]
				st.Params[i].Value = &v
			}
		}
		return st, &NeedParams{Params: st.Params}
	}
	for i, oid := range oids {
		if strings.TrimSpace(values[i]) == "" {
			continue // NULL
		}
		v, err := normalize(st.Params[i].Name, oid, values[i])
		if err != nil {
			return Statement{}, err
		}
		st.Params[i].Value = &v
	}
	return st, nil
}

// runError turns what PostgreSQL said about an analysed statement into a sentence for the
// engineer. Refusals (a write, a lock, a table the role may not read, the timeout) are
// EUNPROCESSABLE; a statement that does not parse or plan is EINVALID; anything else
// (the database down, a bug) stays internal.
func runError(err error, timeout time.Duration) error {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return tally.Errorf(tally.EUNPROCESSABLE, "Stopped: the statement did not finish in time. Nothing was changed.")
		}
		return err
	}
	where := ""
	if pg.Position > 0 {
		where = fmt.Sprintf(" (at character %d)", pg.Position)
	}
	switch {
	case pg.Code == "25006": // read_only_sql_transaction
		return tally.Errorf(tally.EUNPROCESSABLE, "Refused: the statement would change something (%s), and analysis runs read-only. Nothing was changed.", pg.Message)
	case pg.Code == "42501": // insufficient_privilege
		return tally.Errorf(tally.EUNPROCESSABLE, "Refused: %s. Analysed statements may only read the business tables (not users, sessions, sign-in records or idempotency keys), and may not lock rows. Nothing was changed.", pg.Message)
	case pg.Code == "57014": // query_canceled: the statement timeout
		if timeout > 0 {
			return tally.Errorf(tally.EUNPROCESSABLE, "Stopped: the statement ran past its %s timeout and was cancelled. Nothing was changed.", timeout)
		}
		return tally.Errorf(tally.EUNPROCESSABLE, "Stopped: the statement ran past its timeout and was cancelled. Nothing was changed.")
	case pg.Code == "55P03": // lock_not_available: the lock timeout
		return tally.Errorf(tally.EUNPROCESSABLE, "Stopped: the statement waited too long for a lock (%s). Nothing was changed.", pg.Message)
	case pg.Code == "42601" && strings.Contains(pg.Message, "multiple commands"):
		return tally.Errorf(tally.EINVALID, "Refused: one statement at a time, and this holds more than one. Nothing was run.")
	case pg.Code == "0A000": // feature_not_supported, e.g. a rule on a data-modifying WITH
		return tally.Errorf(tally.EUNPROCESSABLE, "Refused: %s. Nothing was changed.", pg.Message)
	case strings.HasPrefix(pg.Code, "42"), strings.HasPrefix(pg.Code, "22"), strings.HasPrefix(pg.Code, "2F"),
		strings.HasPrefix(pg.Code, "0L"), strings.HasPrefix(pg.Code, "54"), pg.Code == "21000", pg.Code == "P0001":
		return tally.Errorf(tally.EINVALID, "The statement does not run: %s%s.", pg.Message, where)
	}
	return err
}
