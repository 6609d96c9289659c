// Command bench is `make bench`: it starts its own PostgreSQL database, Tally and partner
// simulator, loads a million reservations and a million finished jobs, and prints each of
// DESIGN §10's figures next to its reference measured in the same run, with the ratio and
// the target. It is a benchmark, not a test: it prints and writes JSON, it asserts nothing.
//
// Environment: DATABASE_URL (the cluster to create its database on; `make bench` gets one
// from scripts/pg.sh), QUICK=1 (a tenth of the data, fewer repetitions: under two minutes),
// BENCH_OUT (where to write the JSON; default bench/results/<time>.json), BENCH_REF (build
// Tally from this commit rather than the work tree) and BENCH_ONLY (a
// comma-separated list of groups to run: approve, reserve, jobs, pages, rss; the data is
// loaded whatever it says).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// settings are the sizes of one run: full, or QUICK.
type settings struct {
	Quick        bool `json:"quick"`
	Reservations int  `json:"reservations"`
	FinishedJobs int  `json:"finished_jobs"`
	// Reps is how many times each throughput pair (Tally, then its reference) runs.
	Reps int `json:"repetitions"`
	// ApproveFor is how long each approve run lasts.
	ApproveFor time.Duration `json:"approve_for_ns"`
	// Page requests per page and concurrency, at most, within PageBudget.
	PageRequests1 int           `json:"page_requests_c1"`
	PageRequests8 int           `json:"page_requests_c8"`
	PageBudget    time.Duration `json:"page_budget_ns"`
	// Commit → job start: LowRate approvals a second for LowWindow, then full speed for
	// FullWindow; JobWait is how long the jobs are given to start afterwards.
	LowRate        float64       `json:"low_rate"`
	LowWindow      time.Duration `json:"low_window_ns"`
	FullWindow     time.Duration `json:"full_window_ns"`
	JobWait        time.Duration `json:"job_wait_ns"`
	PartnerLatency time.Duration `json:"partner_latency_ns"`
	// The hot slot: its seats and how many staff reserve on it at once.
	HotCapacity int `json:"hot_capacity"`
	// NoopJobs is how many no-op jobs each side of the job-throughput figure works.
	NoopJobs int `json:"noop_jobs"`
	// SetupBudget is how long building and loading may take before the measurements are cut
	// down (page budget and job wait halved, a repetition less; past 1.6 times it, a quarter
	// and one repetition) to keep the whole run in its time.
	SetupBudget time.Duration `json:"setup_budget_ns"`
	// Sessions is how many staff sign in (a quarter as many operators and engineers); more
	// clients than sessions share them.
	Sessions   int `json:"sessions"`
	HotClients int `json:"hot_clients"`
}

func settingsFor(quick bool) settings {
	if quick {
		return settings{Quick: true, Reservations: 100_000, FinishedJobs: 100_000, Reps: 1, ApproveFor: 2 * time.Second,
			PageRequests1: 5, PageRequests8: 16, PageBudget: 300 * time.Millisecond, Sessions: 8,
			LowRate: 10, LowWindow: 3 * time.Second, FullWindow: 2 * time.Second, JobWait: 10 * time.Second,
			PartnerLatency: time.Second, HotCapacity: 500, HotClients: 16, NoopJobs: 5_000, SetupBudget: 40 * time.Second}
	}
	return settings{Reservations: 1_000_000, FinishedJobs: 1_000_000, Reps: 3, ApproveFor: 5 * time.Second,
		PageRequests1: 30, PageRequests8: 80, PageBudget: 1500 * time.Millisecond, Sessions: 32,
		LowRate: 10, LowWindow: 8 * time.Second, FullWindow: 4 * time.Second, JobWait: 20 * time.Second,
		PartnerLatency: time.Second, HotCapacity: 2000, HotClients: 16, NoopJobs: 8_000, SetupBudget: 3 * time.Minute}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	quick := os.Getenv("QUICK") != "" && os.Getenv("QUICK") != "0"
	set := settingsFor(quick)
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		return fmt.Errorf("DATABASE_URL is not set (run it as `make bench`, which starts PostgreSQL)")
	}
	started := time.Now()
	outPath := os.Getenv("BENCH_OUT")
	if outPath == "" {
		outPath = fmt.Sprintf("bench/results/%s.json", started.UTC().Format("20060102T150405Z"))
	}
	dir, err := os.MkdirTemp("", "tally-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	if quick {
		fmt.Fprintf(out, "QUICK run: %d reservations and %d finished jobs (the full run has 1,000,000 each), %d repetition(s), shorter windows. Its figures are indicative only.\n",
			set.Reservations, set.FinishedJobs, set.Reps)
	} else {
		fmt.Fprintf(out, "Full run: %d reservations, %d finished jobs, %d repetitions of each throughput pair (medians shown).\n",
			set.Reservations, set.FinishedJobs, set.Reps)
	}
	commit := gitCommit()
	if ref := os.Getenv("BENCH_REF"); ref != "" {
		commit = ref
	}
	fmt.Fprintf(out, "Tally %s. Machine: %d CPUs (shared: absolute times are noisy, ratios less so).\n\n", commit, runtime.NumCPU())

	b := &bench{out: out, set: set, started: started, only: onlyGroups(os.Getenv("BENCH_ONLY")),
		st: &stack{dir: dir, adminURL: admin}}
	defer func() {
		b.st.stopApp()
		if err := b.st.dropDatabase(); err != nil {
			fmt.Fprintln(out, "bench: dropping its database:", err)
		}
	}()
	rows := b.run(ctx)

	fmt.Fprintln(out)
	if b.hurried != "" {
		fmt.Fprintln(out, b.hurried)
	}
	printTable(out, rows)
	rep := Report{Started: started, Took: time.Since(started).Seconds(), Quick: quick, Commit: commit,
		Machine:  map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version()},
		Settings: map[string]any{"settings": b.set, "cut_down": b.hurried}, Rows: cleanRows(rows)}
	if err := writeJSON(outPath, rep); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nTook %s. Results written to %s.\n", time.Since(started).Round(time.Second), outPath)
	return nil
}

func onlyGroups(s string) map[string]bool {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	m := map[string]bool{}
	for g := range strings.SplitSeq(s, ",") {
		m[strings.TrimSpace(g)] = true
	}
	return m
}

func gitCommit() string {
	b, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(b))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "+uncommitted"
	}
	return c
}
