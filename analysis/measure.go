package analysis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tally"
	"tally/queries"
)

// warmUps is how many unmeasured runs each side gets first, so that neither is measured cold.
const warmUps = 2

// buildLockTimeout bounds how long the build waits for other transactions to let it through
// (CREATE INDEX CONCURRENTLY waits for the writers and the older snapshots of the table).
const buildLockTimeout = 30 * time.Second

// candidatePrefix starts every candidate index's name, so that one left behind by a process
// that died is recognised and dropped.
const candidatePrefix = "tally_candidate_"

// openBuildSession opens the connection that builds and drops the candidate index, as the
// application's own role (the analysis role may not create indexes), outside any transaction
// (CONCURRENTLY cannot run in one).
func (s *Service) openBuildSession(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "tally candidate index"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("analysis: connecting: %w", err)
	}
	return conn, nil
}

// measure is the real mode, in the background: predict (HypoPG, when present), build the
// candidate concurrently with its progress saved as it goes, run both sides runs times after a
// warm-up, drop the index, and save the outcome with its audit row. Whatever fails, the
// index is dropped (an INVALID one left by a failed build too) and the comparison says why.
func (s *Service) measure(build *pgx.Conn, actor tally.Actor, id int64, st Statement, req CompareRequest, tables []Table, hypo HypoPG) {
	budget := s.cfg.BuildTimeout + time.Duration(2*req.Runs+4*warmUps+4)*req.Timeout + time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	name := candidatePrefix + strconv.FormatInt(id, 10)
	out := Outcome{IndexName: name, Interleaved: hypo.CanHide}
	var planA, planB []byte
	attempted := false

	phase := func(progress float64, format string, args ...any) {
		err := s.q.QueryComparisonPhase(ctx, queries.QueryComparisonPhaseParams{ID: id, Phase: fmt.Sprintf(format, args...), Progress: float32(min(max(progress, 0), 1))})
		if err != nil {
			s.log.Warn("query comparison: saving its phase", "comparison", id, "err", err)
		}
	}
	end := func(status string, failure error) {
		msg := ""
		if failure != nil {
			msg = tally.ErrorMessage(failure)
			if tally.ErrorCode(failure) == tally.EINTERNAL {
				s.log.Error("query comparison failed", "comparison", id, "err", failure)
				msg = "Internal error while measuring: the server log has the details."
			}
		}
		if attempted {
			if err := s.dropCandidate(name); err != nil {
				s.log.Error("query comparison: dropping the candidate index", "comparison", id, "index", name, "err", err)
				out.Notes = append(out.Notes, "The candidate index could not be dropped: the next real comparison drops it.")
			} else {
				out.Dropped = true
			}
		}
		if status == StatusDone {
			out.Verdict = verdictReal(out)
		}
		// A fresh context: the comparison's own may have run out, and this must be saved.
		fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer fcancel()
		err := s.inTx(fctx, func(q *queries.Queries, tx pgx.Tx) error {
			return s.finish(fctx, q, tx, actor, id, status, planA, planB, out, msg, attempted)
		})
		if err != nil {
			s.log.Error("query comparison: saving its outcome", "comparison", id, "err", err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			end(StatusFailed, fmt.Errorf("panic: %v", r))
		}
	}()

	// Candidates left by a comparison whose process died first: this one holds the lock, so
	// no other is building them.
	leftovers, err := queries.New(build).QueryAnalysisCandidateIndexes(ctx)
	if err != nil {
		end(StatusFailed, err)
		return
	}
	for _, l := range leftovers {
		phase(0, "dropping %s, left by an earlier comparison", l.IndexName)
		if err := s.dropCandidate(l.IndexName); err != nil {
			end(StatusFailed, err)
			return
		}
	}

	if hypo.Ready() {
		phase(0, "asking the planner (HypoPG) what it expects")
		ss, err := s.openSession(ctx)
		if err != nil {
			end(StatusFailed, err)
			return
		}
		p, err := s.hypothetical(ctx, ss, st, req.Candidate.hypotheticalDDL(tables), req.Timeout)
		ss.close()
		if err != nil {
			out.Notes = append(out.Notes, "HypoPG's prediction failed: "+tally.ErrorMessage(err))
		} else {
			out.Prediction = &p
		}
	}

	ss, err := s.openSession(ctx)
	if err != nil {
		end(StatusFailed, err)
		return
	}
	defer ss.close()
	total := 2*req.Runs + 4*warmUps + 2
	done := 0
	seq := 0
	// run explains one side once: measured (TIMING OFF, the total is what counts) or with
	// every node's time, for the plan shown.
	run := func(side string, timed bool) ([]byte, *Plan, error) {
		hidden := side == "A" && hypo.CanHide && attempted
		if hidden {
			if _, err := ss.conn.Exec(ctx, "SELECT hypopg_hide_index($1::regclass)", name); err != nil {
				return nil, nil, err
			}
			defer ss.conn.Exec(ctx, "SELECT hypopg_unhide_index($1::regclass)", name) //nolint:errcheck // the session ends with the comparison
		}
		var raw []byte
		err := ss.readOnly(ctx, req.Timeout, func(tx pgx.Tx) error {
			var err error
			raw, err = explain(ctx, tx, st.SQL, st.oids, st.values(), Options{Analyze: true, Timing: timed})
			return err
		})
		if err != nil {
			return nil, nil, runError(err, req.Timeout)
		}
		plan, err := ParsePlan(raw)
		done++
		phase(float64(done)/float64(total), "running %s: %d of %d runs", side, done, total)
		return raw, plan, err
	}
	measured := func(side string) error {
		_, plan, err := run(side, false)
		if err != nil {
			return err
		}
		seq++
		r := Run{Seq: seq, MS: plan.ExecutionMS, Hit: plan.Root.Buffers.SharedHit + plan.Root.Buffers.LocalHit,
			Read: plan.Root.Buffers.SharedRead + plan.Root.Buffers.LocalRead}
		if side == "A" {
			out.RunsA = append(out.RunsA, r)
		} else {
			out.RunsB = append(out.RunsB, r)
		}
		return nil
	}
	warm := func(side string) ([]byte, error) {
		for range warmUps {
			if _, _, err := run(side, false); err != nil {
				return nil, err
			}
		}
		raw, _, err := run(side, true)
		return raw, err
	}

	if !hypo.CanHide {
		// Without HypoPG's hide, A cannot run while the index exists: half of A's runs go
		// before the build and half after the drop, so that drift over time favours neither.
		if planA, err = warm("A"); err != nil {
			end(StatusFailed, err)
			return
		}
		for range (req.Runs + 1) / 2 {
			if err := measured("A"); err != nil {
				end(StatusFailed, err)
				return
			}
		}
	}

	attempted = true
	started := time.Now()
	if err := s.buildCandidate(ctx, build, id, req.Candidate.DDL(tables, name), phase); err != nil {
		end(StatusFailed, err)
		return
	}
	out.BuildMS = float64(time.Since(started).Microseconds()) / 1000
	state, err := s.q.QueryAnalysisIndexState(ctx, name)
	if err != nil {
		end(StatusFailed, err)
		return
	}
	if !state.Valid {
		end(StatusFailed, tally.Errorf(tally.EUNPROCESSABLE, "The candidate index was built but is not valid; it was dropped."))
		return
	}
	out.IndexBytes = state.Bytes

	if hypo.CanHide {
		if planA, err = warm("A"); err != nil {
			end(StatusFailed, err)
			return
		}
	}
	if planB, err = warm("B"); err != nil {
		end(StatusFailed, err)
		return
	}
	if pb, err := ParsePlan(planB); err == nil {
		out.IndexUsed = usesIndex(pb, name)
	}

	var sides []string
	for range req.Runs {
		sides = append(sides, "B")
		if hypo.CanHide {
			sides = append(sides, "A")
		}
	}
	if hypo.CanHide {
		// Interleaved in random order, so that caches and noise favour neither side.
		rand.Shuffle(len(sides), func(i, j int) { sides[i], sides[j] = sides[j], sides[i] })
	}
	for _, side := range sides {
		if err := measured(side); err != nil {
			end(StatusFailed, err)
			return
		}
	}

	if !hypo.CanHide {
		phase(float64(done)/float64(total), "dropping the candidate index")
		if err := s.dropCandidate(name); err != nil {
			end(StatusFailed, err)
			return
		}
		for range req.Runs / 2 {
			if err := measured("A"); err != nil {
				end(StatusFailed, err)
				return
			}
		}
	}
	end(StatusDone, nil)
}

// buildCandidate runs ddl on the build session, saving pg_stat_progress_create_index's view
// of it as the comparison's phase while it runs. A build that fails leaves an INVALID index
// behind, which the caller drops.
func (s *Service) buildCandidate(ctx context.Context, build *pgx.Conn, id int64, ddl string, phase func(float64, string, ...any)) error {
	if err := queries.New(build).QueryAnalysisBuildTimeouts(ctx, queries.QueryAnalysisBuildTimeoutsParams{
		StatementMs: strconv.FormatInt(s.cfg.BuildTimeout.Milliseconds(), 10),
		LockMs:      strconv.FormatInt(buildLockTimeout.Milliseconds(), 10),
	}); err != nil {
		return err
	}
	phase(0, "building the index")
	pid := int32(build.PgConn().PID())
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				p, err := s.q.QueryAnalysisBuildProgress(ctx, pid)
				if err != nil {
					continue // between phases, or done
				}
				frac, of := 0.0, ""
				switch {
				case p.BlocksTotal > 0:
					frac, of = float64(p.BlocksDone)/float64(p.BlocksTotal), fmt.Sprintf(" (%s of %s blocks)", count(float64(p.BlocksDone)), count(float64(p.BlocksTotal)))
				case p.TuplesTotal > 0:
					frac, of = float64(p.TuplesDone)/float64(p.TuplesTotal), fmt.Sprintf(" (%s of %s rows)", count(float64(p.TuplesDone)), count(float64(p.TuplesTotal)))
				}
				phase(frac, "building the index: %s%s", p.Phase, of)
			}
		}
	}()
	_, err := build.Exec(ctx, ddl)
	close(stop)
	<-watched
	if err != nil {
		var pg *pgconn.PgError
		if !errors.As(err, &pg) {
			return err
		}
		return tally.Errorf(tally.EUNPROCESSABLE, "The candidate index could not be built (%s); what the build left was dropped.", pg.Message)
	}
	return nil
}

// dropCandidate drops a candidate index, valid or not, concurrently (without blocking the
// table's writers), on a connection of the pool: the build session may have died with the
// failure being cleaned up after.
func (s *Service) dropCandidate(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := s.pool.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+ident(name)); err != nil {
		return err
	}
	if _, err := s.q.QueryAnalysisIndexState(ctx, name); !errors.Is(err, pgx.ErrNoRows) {
		if err == nil {
			err = fmt.Errorf("index %s is still there", name)
		}
		return err
	}
	return nil
}
