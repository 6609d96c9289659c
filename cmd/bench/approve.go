package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// approve approves reservation id as staff do from the list: htmx, the CSRF header, a fresh
// idempotency key, the row back.
func approve(ctx context.Context, s *session, id int64) error {
	status, body, err := s.post(ctx, fmt.Sprintf("/reservations/%d/approve", id),
		url.Values{"idempotency_key": {newKey()}, "view": {"row"}}, true)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("approve #%d: status %d: %s", id, status, snippet(body))
	}
	return nil
}

// httpApprove approves held reservations with c staff at once for the run's time; the
// approvals are put back on hold after.
func (b *bench) httpApprove(ctx context.Context, c int) (loadResult, error) {
	lo := b.heldLo
	res := load(ctx, clients(b.staff, c), b.pool(), b.set.ApproveFor, func(ctx context.Context, s *session, i int) error {
		return approve(ctx, s, lo+int64(i))
	})
	if err := b.resetHeld(ctx); err != nil {
		return res, err
	}
	if res.ok == b.pool() {
		return res, fmt.Errorf("ran out of held reservations: raise maxTPS")
	}
	if res.firstErr != nil && res.ok == 0 {
		return res, res.firstErr
	}
	return res, nil
}

var (
	pgbenchTPS       = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchProcessed = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
	pgbenchLatency   = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
)

// pgbenchApprove runs Tally's approve transaction in pgbench with c clients for the run's
// time, each client on held reservations of its own, so that every transaction approves
// one; it checks that they did, and puts them back on hold. It returns pgbench's tps and
// its average latency.
func (b *bench) pgbenchApprove(ctx context.Context, c, run int) (tps, latency float64, err error) {
	per := b.pool() / c
	script := filepath.Join(b.st.dir, "approve.pgbench")
	if err := os.WriteFile(script, []byte(approveScript), 0o644); err != nil {
		return 0, 0, err
	}
	bin, err := pgbenchPath()
	if err != nil {
		return 0, 0, err
	}
	u, err := url.Parse(b.st.dbURL)
	if err != nil {
		return 0, 0, err
	}
	args := []string{"-n", "-M", "prepared", "-f", script, "-c", strconv.Itoa(c), "-j", "2",
		"-T", strconv.Itoa(int(b.set.ApproveFor.Seconds())),
		"-D", "i=0", "-D", fmt.Sprintf("lo=%d", b.heldLo), "-D", fmt.Sprintf("per=%d", per), "-D", fmt.Sprintf("run=%d", run),
		"-D", fmt.Sprintf("actor=%d", b.staffID), "-D", "actor_email=staff@tally.test",
		"-h", u.Hostname(), "-U", u.User.Username(), u.Path[1:]}
	if p := u.Port(); p != "" {
		args = append(args, "-p", p)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = os.Environ()
	if pw, ok := u.User.Password(); ok {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+pw)
	}
	if m := u.Query().Get("sslmode"); m != "" {
		cmd.Env = append(cmd.Env, "PGSSLMODE="+m)
	}
	out, runErr := cmd.CombinedOutput()
	var approved int
	if err := b.st.pool.QueryRow(ctx, stmt("ApprovedInRange"), b.heldLo, b.heldHi).Scan(&approved); err != nil {
		return 0, 0, err
	}
	if err := b.resetHeld(ctx); err != nil {
		return 0, 0, err
	}
	if runErr != nil {
		return 0, 0, fmt.Errorf("pgbench: %w: %s", runErr, lastLines(string(out), 5))
	}
	m, n, l := pgbenchTPS.FindSubmatch(out), pgbenchProcessed.FindSubmatch(out), pgbenchLatency.FindSubmatch(out)
	if m == nil || n == nil || l == nil {
		return 0, 0, fmt.Errorf("pgbench printed no tps: %s", lastLines(string(out), 5))
	}
	tps, _ = strconv.ParseFloat(string(m[1]), 64)
	latency, _ = strconv.ParseFloat(string(l[1]), 64)
	processed, _ := strconv.Atoi(string(n[1]))
	if approved != processed {
		return tps, latency, fmt.Errorf("pgbench ran %d transactions but approved %d reservations: not the same work", processed, approved)
	}
	return tps, latency, nil
}

// pgbenchPath finds pgbench: on PATH, else with the machine's PostgreSQL binaries.
func pgbenchPath() (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(found) == 0 {
		return "", errors.New("no pgbench (install postgresql-contrib or the PostgreSQL client)")
	}
	sort.Strings(found)
	return found[len(found)-1], nil
}

// approveRows measures approve throughput over HTTP at concurrency 8 and 32, each run
// followed by pgbench running the same transaction, Reps times; medians and their ratio.
// Tally's memory is sampled during the HTTP runs.
func (b *bench) approveRows(ctx context.Context) []Row {
	type pair struct {
		http, pgb []float64
		lat, pgl  []float64
		errs      []string
		failed    int
	}
	results := map[int]*pair{8: {}, 32: {}}
	pid := b.st.tally.cmd.Process.Pid
	run := 0
	for rep := range b.set.Reps {
		for _, c := range []int{8, 32} {
			p := results[c]
			sampler := sampleRSS(pid, 100*time.Millisecond)
			res, err := b.httpApprove(ctx, c)
			b.rss.load = max(b.rss.load, sampler.end())
			if err != nil {
				p.errs = append(p.errs, "HTTP: "+err.Error())
			} else {
				p.http = append(p.http, res.perSecond())
				p.lat = append(p.lat, ms(res.latencies)...)
				p.failed += res.failed
				if res.firstErr != nil {
					p.errs = append(p.errs, "HTTP: "+res.firstErr.Error())
				}
			}
			run++
			tps, lat, err := b.pgbenchApprove(ctx, c, run)
			if err != nil {
				p.errs = append(p.errs, err.Error())
			} else {
				p.pgb, p.pgl = append(p.pgb, tps), append(p.pgl, lat)
			}
			b.step("approve c=%d rep %d: HTTP %.0f tps, pgbench %.0f tps", c, rep+1, last(p.http), tps)
		}
	}
	_, b.rss.hwm, _ = memory(pid)
	var rows []Row
	for _, c := range []int{8, 32} {
		p := results[c]
		r := Row{Group: "approve", Figure: fmt.Sprintf("approve over HTTP, c=%d", c), Target: "≥ 0.70 of pgbench",
			Data: map[string]float64{}}
		for i, v := range p.http {
			r.Data[fmt.Sprintf("http_tps_%d", i+1)] = v
		}
		for i, v := range p.pgb {
			r.Data[fmt.Sprintf("pgbench_tps_%d", i+1)] = v
		}
		if len(p.http) == 0 || len(p.pgb) == 0 {
			r.Verdict, r.Error = errored, fmt.Sprint(p.errs)
			rows = append(rows, r)
			continue
		}
		h, g := median(p.http), median(p.pgb)
		r.Value = fmt.Sprintf("%.0f tps (p50 %s, p95 %s ms)", h, fmtMS(median(p.lat)), fmtMS(quantile(p.lat, 0.95)))
		r.Reference = fmt.Sprintf("pgbench %.0f tps (avg %s ms)", g, fmtMS(median(p.pgl)))
		r.Ratio = h / g
		r.Verdict = verdict(r.Ratio >= 0.70)
		r.Data["http_tps"], r.Data["pgbench_tps"], r.Data["ratio"] = h, g, r.Ratio
		r.Data["http_p50_ms"], r.Data["http_p95_ms"] = median(p.lat), quantile(p.lat, 0.95)
		r.Note = fmt.Sprintf("median of %d runs of %s each side, alternating; pgbench -M prepared -c %d -j 2 runs the same transaction (cmd/bench/approve.pgbench)",
			len(p.http), b.set.ApproveFor, c)
		if p.failed > 0 || len(p.errs) > 0 {
			r.Note += fmt.Sprintf("; %d failed requests: %v", p.failed, p.errs)
		}
		rows = append(rows, r)
	}
	return rows
}

func last(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
}
