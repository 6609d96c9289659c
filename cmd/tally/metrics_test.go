package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"tally/internal/testdb"
)

// A worker has no console: it answers /healthz and /metrics on TALLY_METRICS_ADDR, and the
// jobs it works show there, by kind and outcome. The address closes with the worker.
func TestWorkerServesMetrics(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	sim := startPartner(t)
	worker := startWorker(t, pool, sim, "TALLY_METRICS_ADDR=127.0.0.1:0")
	base := worker.waitOutput(t, regexp.MustCompile(`msg="metrics and health" url=(http://\S+)/metrics`), 10*time.Second)

	if status, body := get(t, base+"/healthz"); status != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("GET /healthz: %d %q", status, body)
	}
	status, body := get(t, base+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	for _, series := range []string{"go_goroutines", "process_resident_memory_bytes", "tally_db_pool_max_connections",
		`tally_jobs{queue="partner",state="available"}`, `tally_partner_circuit_state{state="closed"}`} {
		if _, ok := sample(body, series); !ok {
			t.Errorf("/metrics has no %s", series)
		}
	}

	id := insertPayout(t, pool, 301)
	waitJob(t, pool, id, 30*time.Second, "completed", inState(rivertype.JobStateCompleted))
	completed := `tally_jobs_worked_total{kind="partner_payout",outcome="completed"}`
	ran := `tally_job_run_duration_seconds_count{kind="partner_payout",outcome="completed"}`
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body = get(t, base+"/metrics")
		n, _ := sample(body, completed)
		runs, _ := sample(body, ran)
		if n == 1 && runs == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a payout ran: %s %v, %s %v; want 1 each", completed, n, ran, runs)
		}
		time.Sleep(50 * time.Millisecond)
	}

	worker.signal(t, syscall.SIGTERM)
	if err := worker.exit(t, 30*time.Second); err != nil {
		t.Fatalf("worker exit: %v", err)
	}
	if res, err := http.Get(base + "/healthz"); err == nil {
		res.Body.Close()
		t.Errorf("the worker's metrics address still answers after it stopped: %s", res.Status)
	}
}

// `tally serve` answers /metrics on the console's address, without sign-in: the console's
// requests and the jobs its workers run, on one registry.
func TestServeServesMetrics(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	sim := startPartner(t)
	p := start(t, []string{"DATABASE_URL=" + pool.Config().ConnString(), "TALLY_PARTNER_URL=" + sim.url}, "serve", "-addr", "127.0.0.1:0")
	base := p.waitOutput(t, regexp.MustCompile(`Tally is running at (\S+)`), 60*time.Second)

	if status, _ := get(t, base+"/healthz"); status != http.StatusOK {
		t.Fatalf("GET /healthz: %d", status)
	}
	id := insertPayout(t, pool, 302)
	waitJob(t, pool, id, 30*time.Second, "completed", inState(rivertype.JobStateCompleted))
	healthz := `tally_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}`
	completed := `tally_jobs_worked_total{kind="partner_payout",outcome="completed"}`
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := get(t, base+"/metrics")
		if status != http.StatusOK {
			t.Fatalf("GET /metrics: %d", status)
		}
		checks, _ := sample(body, healthz)
		payouts, _ := sample(body, completed)
		_, pool := sample(body, "tally_db_pool_max_connections")
		if checks >= 1 && payouts == 1 && pool {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve's /metrics: %s %v, %s %v, pool stats %v", healthz, checks, completed, payouts, pool)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// sample is the value of one series in Prometheus's text format, named with its labels as
// the format writes them (sorted by name).
func sample(body, series string) (float64, bool) {
	for line := range strings.SplitSeq(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}
