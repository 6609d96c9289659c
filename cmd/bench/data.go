package main

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// load fills the bench's database: the schema and the demo business, then the timed seed
// of the reservations and the finished jobs. It records the seed rows.
func (b *bench) load(ctx context.Context) error {
	b.step("migrating and seeding the demo business and accounts")
	if _, err := b.st.runTally(ctx, "seed", "--demo-accounts"); err != nil {
		return err
	}
	b.step("tally seed --reservations %d (timed)", b.set.Reservations)
	t := time.Now()
	out, err := b.st.runTally(ctx, "seed", "--reservations", fmt.Sprint(b.set.Reservations))
	took := time.Since(t)
	if err != nil {
		return err
	}
	b.seedRows = append(b.seedRows, seedRow(b.set, took, out))

	b.step("tally seed --finished-jobs %d", b.set.FinishedJobs)
	t = time.Now()
	if _, err := b.st.runTally(ctx, "seed", "--finished-jobs", fmt.Sprint(b.set.FinishedJobs)); err != nil {
		return fmt.Errorf("finished jobs: %w", err)
	}
	jobsTook := time.Since(t)
	b.seedRows = append(b.seedRows, Row{Group: "seed", Figure: fmt.Sprintf("seed %d finished jobs (tally seed)", b.set.FinishedJobs),
		Value: fmt.Sprintf("%.1f s", jobsTook.Seconds()), Verdict: info, Data: map[string]float64{"seconds": jobsTook.Seconds()}})
	return nil // tally seed analyzes what it loaded
}

// seedTook finds the time tally seed reports for itself ("Took 12.3s." or "… in 12.3s.").
var seedTook = regexp.MustCompile(`(?:Took|in) ((?:[0-9]+m)?[0-9.]+m?s)\.`)

// seedRow is the seed figure: the whole `tally seed` command, as a person would time it.
func seedRow(set settings, took time.Duration, out string) Row {
	r := Row{Group: "seed", Figure: fmt.Sprintf("seed %d reservations (tally seed)", set.Reservations),
		Value: fmt.Sprintf("%.1f s", took.Seconds()), Data: map[string]float64{"seconds": took.Seconds()}}
	if m := seedTook.FindStringSubmatch(out); m != nil {
		if d, err := time.ParseDuration(m[1]); err == nil {
			r.Reference = fmt.Sprintf("seed's own count: %.1f s", d.Seconds())
			r.Data["seed_reported_seconds"] = d.Seconds()
		}
	}
	if set.Quick {
		r.Target = "< 3 s (30 s per million)"
		r.Verdict = verdict(took < 3*time.Second)
		r.Note = "QUICK seeds a tenth of the data: its target is scaled down"
	} else {
		r.Target = "< 30 s"
		r.Verdict = verdict(took < 30*time.Second)
	}
	return r
}

// maxTPS is more approvals a second than the bench expects from anything on this machine.
const maxTPS = 6000

// makeHeld makes the held reservations the approve figures approve: on slots of a resource
// of their own, a thousand to a slot, each slot's seats counted.
func (b *bench) makeHeld(ctx context.Context) error {
	// Enough for the fastest run the bench expects, pgbench's: its clients approve from
	// ranges of their own, which must not run out before the run's time is up.
	need := int(maxTPS * max(b.set.ApproveFor, b.set.FullWindow).Seconds())
	const perSlot = 1000
	slots := (need + perSlot - 1) / perSlot
	var resource int64
	if err := b.st.pool.QueryRow(ctx, stmt("BenchResource"), "Bench hall (approvals)").Scan(&resource); err != nil {
		return err
	}
	rows, err := b.st.pool.Query(ctx, stmt("BenchSlots"), resource, slots, perSlot, perSlot)
	if err != nil {
		return err
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var lo, hi, n int64
	if err := b.st.pool.QueryRow(ctx, stmt("HeldReservations"), resource, perSlot).Scan(&lo, &hi, &n); err != nil {
		return err
	}
	if hi-lo+1 != n {
		return fmt.Errorf("the held reservations' ids are not one range (%d..%d for %d)", lo, hi, n)
	}
	b.heldLo, b.heldHi = lo, hi
	b.step("%d held reservations, #%d to #%d", n, lo, hi)
	_, err = b.st.pool.Exec(ctx, stmt("AnalyzeReservations"))
	return err
}
