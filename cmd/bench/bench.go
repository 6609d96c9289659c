package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// bench is one run: the stack it started, who is signed in, and the rows so far.
type bench struct {
	out  io.Writer
	set  settings
	only map[string]bool
	st   *stack

	staff, operators, engineers []*session
	staffID                     int64

	// heldLo..heldHi are the held reservations made for the approvals. Each run approves
	// from the start of the range, then puts what it approved back on hold (resetHeld).
	heldLo, heldHi int64

	started time.Time
	hurried string // why the run was cut down, if it was

	seedRows []Row
	rss      struct{ idle, idleBeforeSignIn, load, hwm float64 }
}

func (b *bench) want(group string) bool { return b.only == nil || b.only[group] }

// step prints what the bench is doing, so a long run shows where it is.
func (b *bench) step(format string, args ...any) {
	fmt.Fprintf(b.out, "· %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// run measures every figure; a figure that fails becomes a row with its error and the run
// goes on. Setting up (build, database, data, processes) failing ends the run.
func (b *bench) run(ctx context.Context) []Row {
	var setupErr error
	rows := map[string][]Row{}
	fail := func(group, figure string, err error) {
		rows[group] = append(rows[group], Row{Group: group, Figure: figure, Verdict: errored, Error: err.Error()})
	}
	func() {
		if ref := os.Getenv("BENCH_REF"); ref != "" {
			b.step("building tally from %s", ref)
		} else {
			b.step("building tally from this checkout's work tree")
		}
		if setupErr = b.st.build(ctx, os.Getenv("BENCH_REF")); setupErr != nil {
			return
		}
		b.step("creating the bench's database")
		if setupErr = b.st.createDatabase(ctx); setupErr != nil {
			return
		}
		b.step("database %s", b.st.dbName)
		if setupErr = b.load(ctx); setupErr != nil {
			return
		}
		b.step("starting partner-sim and tally serve --demo")
		if setupErr = b.st.startApp(ctx); setupErr != nil {
			return
		}
		setupErr = b.signIn(ctx)
	}()
	if setupErr != nil {
		fail("setup", "set-up", setupErr)
		return append(rows["setup"], b.seedRows...)
	}
	if took := time.Since(b.started); took > b.set.SetupBudget {
		cut := 2 // far over: a quarter of the page budget, one repetition
		if took > b.set.SetupBudget*8/5 {
			cut = 4
		}
		b.set.PageBudget /= time.Duration(cut)
		b.set.Reps = max(1, b.set.Reps-cut/2)
		b.set.JobWait /= time.Duration(cut)
		b.hurried = fmt.Sprintf("Setting up took %s (more than %s, a busy machine): page budget cut to %s, %d repetition(s), jobs waited on for %s.",
			took.Round(time.Second), b.set.SetupBudget, b.set.PageBudget, b.set.Reps, b.set.JobWait)
		b.step("%s", b.hurried)
	}

	if b.want("pages") {
		b.step("page latency")
		rows["pages"] = guard("pages", func() []Row { return b.pageRows(ctx) })
	}
	// On a quiet system, before the approvals leave notices for the workers to work.
	var noop []Row
	if b.want("jobs") {
		b.step("no-op jobs through Tally's River configuration and River's benchmark's")
		noop = guard("jobs", func() []Row { return []Row{b.noopRow(ctx)} })
	}
	b.step("making held reservations for the approvals")
	if err := b.makeHeld(ctx); err != nil {
		fail("approve", "held reservations for the approvals", err)
	} else {
		if b.want("jobs") {
			b.step("commit → job start")
			rows["jobs"] = guard("jobs", func() []Row { return b.jobStartRows(ctx) })
		}
		if b.want("approve") || b.want("rss") {
			b.step("approve throughput against pgbench")
			rows["approve"] = guard("approve", func() []Row { return b.approveRows(ctx) })
		}
	}
	rows["jobs"] = append(rows["jobs"], noop...)
	if b.want("reserve") {
		b.step("reserve on a hot slot")
		rows["reserve"] = guard("reserve", func() []Row { return b.reserveRows(ctx) })
	}
	if b.want("rss") {
		rows["rss"] = b.rssRows()
	}

	var all []Row
	for _, g := range []string{"approve", "reserve", "jobs", "pages", "seed", "rss"} {
		if g == "seed" {
			all = append(all, b.seedRows...)
			continue
		}
		all = append(all, rows[g]...)
	}
	return all
}

// guard runs one group's measurements; a panic in them becomes an error row, and the run
// goes on.
func guard(group string, measure func() []Row) (rows []Row) {
	defer func() {
		if p := recover(); p != nil {
			rows = append(rows, Row{Group: group, Figure: group, Verdict: errored, Error: fmt.Sprintf("panic: %v", p)})
		}
	}()
	return measure()
}

// signIn signs in the sessions every figure uses, one per simulated person, and reads the
// idle memory of Tally around it.
func (b *bench) signIn(ctx context.Context) error {
	time.Sleep(time.Second)
	b.rss.idleBeforeSignIn, _, _ = memory(b.st.tally.cmd.Process.Pid)
	n := b.set.Sessions
	b.step("signing in %d staff, %d operators and %d engineers", n, n/4, n/4)
	var err error
	if b.staff, err = signInMany(ctx, b.st.tallyURL, "staff@tally.test", n); err != nil {
		return err
	}
	if b.operators, err = signInMany(ctx, b.st.tallyURL, "operator@tally.test", n/4); err != nil {
		return err
	}
	if b.engineers, err = signInMany(ctx, b.st.tallyURL, "engineer@tally.test", n/4); err != nil {
		return err
	}
	if err := b.st.pool.QueryRow(ctx, stmt("UserID"), "staff@tally.test").Scan(&b.staffID); err != nil {
		return fmt.Errorf("staff's user id: %w", err)
	}
	time.Sleep(2 * time.Second)
	b.rss.idle, _, _ = memory(b.st.tally.cmd.Process.Pid)
	return nil
}

// pool is how many held reservations a run may approve.
func (b *bench) pool() int { return int(b.heldHi - b.heldLo + 1) }

// resetHeld puts the approvals of the last run back on hold, outside any measurement, so
// the next run again finds every reservation it asks for held.
func (b *bench) resetHeld(ctx context.Context) error {
	_, err := b.st.pool.Exec(ctx, stmt("ResetHeld"), b.heldLo, b.heldHi)
	return err
}

// fmtMS prints milliseconds: whole above 10, one decimal below.
func fmtMS(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, 1):
		return "never"
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// cleanRows makes the rows safe for JSON: no NaN or infinity in the data.
func cleanRows(rows []Row) []Row {
	out := make([]Row, len(rows))
	for i, r := range rows {
		if r.Data != nil {
			d := map[string]float64{}
			for k, v := range r.Data {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					d[k] = v
				}
			}
			r.Data = d
		}
		if math.IsNaN(r.Ratio) || math.IsInf(r.Ratio, 0) {
			r.Ratio = 0
		}
		out[i] = r
	}
	return out
}
