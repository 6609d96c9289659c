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

// httpApprove approves n held reservations with c staff at once; tps and latencies.
func (b *bench) httpApprove(ctx context.Context, c, n int) (loadResult, error) {
	lo, err := b.takeHeld(n)
	if err != nil {
		return loadResult{}, err
	}
	res := load(ctx, b.staff[:c], n, 0, func(ctx context.Context, s *session, i int) error {
		return approve(ctx, s, lo+int64(i))
	})
	if res.firstErr != nil && res.ok == 0 {
		return res, res.firstErr
	}
	return res, nil
}

var pgbenchTPS = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchApprove runs Tally's approve transaction in pgbench: c clients, n approvals in all,
// each on a held reservation of its own. It returns pgbench's tps and checks that every
// transaction approved one.
func (b *bench) pgbenchApprove(ctx context.Context, c, n, run int) (float64, error) {
	per := n / c
	lo, err := b.takeHeld(per * c)
	if err != nil {
		return 0, err
	}
	script := filepath.Join(b.st.dir, "approve.pgbench")
	if err := os.WriteFile(script, []byte(approveScript), 0o644); err != nil {
		return 0, err
	}
	bin, err := pgbenchPath()
	if err != nil {
		return 0, err
	}
	u, err := url.Parse(b.st.dbURL)
	if err != nil {
		return 0, err
	}
	args := []string{"-n", "-M", "prepared", "-f", script, "-c", strconv.Itoa(c), "-j", "2", "-t", strconv.Itoa(per),
		"-D", "i=0", "-D", fmt.Sprintf("lo=%d", lo), "-D", fmt.Sprintf("per=%d", per), "-D", fmt.Sprintf("run=%d", run),
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
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w: %s", err, lastLines(string(out), 5))
	}
	m := pgbenchTPS.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps: %s", lastLines(string(out), 5))
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	var approved int
	if err := b.st.pool.QueryRow(ctx, stmt("ApprovedInRange"), lo, lo+int64(per*c)-1).Scan(&approved); err != nil {
		return 0, err
	}
	if approved != per*c {
		return tps, fmt.Errorf("pgbench approved %d of the %d held reservations it was given: not the same work", approved, per*c)
	}
	return tps, nil
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
		lat       []float64
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
			res, err := b.httpApprove(ctx, c, b.set.ApprovePerRun)
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
			tps, err := b.pgbenchApprove(ctx, c, b.set.ApprovePerRun, run)
			if err != nil {
				p.errs = append(p.errs, err.Error())
			}
			if tps > 0 {
				p.pgb = append(p.pgb, tps)
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
		r.Reference = fmt.Sprintf("pgbench %.0f tps", g)
		r.Ratio = h / g
		r.Verdict = verdict(r.Ratio >= 0.70)
		r.Data["http_tps"], r.Data["pgbench_tps"], r.Data["ratio"] = h, g, r.Ratio
		r.Data["http_p50_ms"], r.Data["http_p95_ms"] = median(p.lat), quantile(p.lat, 0.95)
		r.Note = fmt.Sprintf("median of %d × %d approvals each side; pgbench -M prepared -c %d -j 2 runs the same transaction (cmd/bench/approve.pgbench)",
			len(p.http), b.set.ApprovePerRun, c)
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
