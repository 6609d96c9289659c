package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"

	"tally/jobs"
	"tally/partnersim"
)

// These helpers run the real binary, as an operator or an orchestrator does: built once per
// test run, started as processes, stopped by signals.

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// binary builds tally once for all the tests of this package.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		if build.dir, build.err = os.MkdirTemp("", "tally-bin-"); build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "tally")
		out, err := exec.Command("go", "build", "-o", build.bin, ".").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// process is a running tally command.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // the exit, once done is closed
}

// start runs tally with args and env added to this process's environment. Its output is
// shown when the test fails; it is killed when the test ends, if still running.
func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{name: strings.Join(args, " "), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t), args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill() // it may have exited just now
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of tally %s:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// waitOutput waits until the output matches re and returns the first submatch (or the match).
func (p *process) waitOutput(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-p.done:
			t.Fatalf("tally %s exited (%v) before printing %q", p.name, p.err, re)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("tally %s has not printed %q after %s", p.name, re, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// exit waits for the process to end and returns how it ended.
func (p *process) exit(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("tally %s still running after %s", p.name, timeout)
		return nil
	}
}

// partner is a `tally partner-sim` process.
type partner struct {
	*process
	url string
}

var listening = regexp.MustCompile(`Partner simulator listening on (\S+)`)

// startPartner runs the partner simulator on a free port, with flags.
func startPartner(t *testing.T, flags ...string) partner {
	t.Helper()
	p := start(t, nil, append([]string{"partner-sim", "-addr", "127.0.0.1:0"}, flags...)...)
	return partner{p, "http://" + p.waitOutput(t, listening, 30*time.Second)}
}

// payouts returns the payouts the partner has made: one per idempotency key, each with the
// number of requests that carried it.
func (s partner) payouts(t *testing.T) []partnersim.Payout {
	t.Helper()
	res, err := http.Get(s.url + "/payouts")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Payouts []partnersim.Payout }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Payouts
}

// waitPayout waits until the partner has made a payout for the reservation.
func (s partner) waitPayout(t *testing.T, reservationID int64, timeout time.Duration) partnersim.Payout {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, p := range s.payouts(t) {
			if p.ReservationID == reservationID {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no payout for reservation %d at the partner after %s", reservationID, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setFaults changes the partner's faults while it runs (fields left out keep their value).
func (s partner) setFaults(t *testing.T, faults string) {
	t.Helper()
	res, err := http.Post(s.url+"/control", "application/json", strings.NewReader(faults))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /control %s: %s", faults, res.Status)
	}
}

// startWorker runs `tally worker` on the database of pool, calling the partner, with env
// added, and waits until its workers have started.
func startWorker(t *testing.T, pool *pgxpool.Pool, sim partner, env ...string) *process {
	t.Helper()
	p := start(t, append([]string{
		"DATABASE_URL=" + pool.Config().ConnString(),
		"TALLY_PARTNER_URL=" + sim.url,
		"TALLY_METRICS_ADDR=127.0.0.1:0", // several workers on one host: a port each
	}, env...), "worker")
	p.waitOutput(t, regexp.MustCompile(`workers started`), 60*time.Second)
	return p
}

// insertPayout inserts a partner_payout job for reservationID, as a settle does.
func insertPayout(t *testing.T, pool *pgxpool.Pool, reservationID int64) int64 {
	t.Helper()
	res, err := inserter(t, pool).Insert(context.Background(),
		jobs.PartnerPayoutArgs{ReservationID: reservationID, AmountCents: 4200, Currency: "EUR"}, jobs.ForReservation(reservationID))
	if err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

func inserter(t *testing.T, pool *pgxpool.Pool) *jobs.Client {
	t.Helper()
	c, err := jobs.NewInserter(pool, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitJob polls the job until done says yes.
func waitJob(t *testing.T, pool *pgxpool.Pool, id int64, timeout time.Duration, what string, done func(*rivertype.JobRow) bool) *rivertype.JobRow {
	t.Helper()
	c := inserter(t, pool)
	deadline := time.Now().Add(timeout)
	for {
		j, err := c.JobGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if done(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s after %s, want it %s; errors: %v", id, j.State, timeout, what, j.Errors)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func inState(state rivertype.JobState) func(*rivertype.JobRow) bool {
	return func(j *rivertype.JobRow) bool { return j.State == state }
}

// lockedBuffer is a bytes.Buffer written by a process's output copier and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
