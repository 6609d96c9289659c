package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// stack is what the bench starts and must stop: its database, its Tally and its partner
// simulator.
type stack struct {
	dir      string // a temporary folder: the binary and the processes' logs
	bin      string // bin/tally built from this checkout
	adminURL string // the cluster's URL as given (DATABASE_URL)
	dbName   string
	dbURL    string // the bench's own database
	pool     *pgxpool.Pool

	tally, partner *process
	tallyURL       string
	partnerURL     string
}

// process is a child process of the bench, with its output in a log file.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// build builds Tally from this checkout into the stack's folder; with ref (BENCH_REF, e.g.
// HEAD), from that commit instead of the work tree.
func (s *stack) build(ctx context.Context, ref string) error {
	s.bin = filepath.Join(s.dir, "tally")
	src := "."
	if ref != "" {
		// One folder for every run: the build cache keys on it.
		src = filepath.Join(os.TempDir(), "tally-bench-src")
		if err := os.RemoveAll(src); err != nil {
			return err
		}
		if err := os.MkdirAll(src, 0o755); err != nil {
			return err
		}
		archive := exec.CommandContext(ctx, "sh", "-c", `git archive --format=tar "$1" | tar -x -C "$2"`, "sh", ref, src)
		if out, err := archive.CombinedOutput(); err != nil {
			return fmt.Errorf("git archive %s: %w: %s", ref, err, out)
		}
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/tally")
	cmd.Dir = src
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/tally: %w", err)
	}
	return nil
}

// createDatabase makes the bench's own database on the cluster of DATABASE_URL.
func (s *stack) createDatabase(ctx context.Context) error {
	u, err := url.Parse(s.adminURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return fmt.Errorf("cannot reach PostgreSQL at DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	s.dbName = fmt.Sprintf("tally_bench_%d_%d", time.Now().Unix(), os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.dbName}.Sanitize()); err != nil {
		return err
	}
	u.Path = "/" + s.dbName
	s.dbURL = u.String()
	pcfg, err := pgxpool.ParseConfig(s.dbURL)
	if err != nil {
		return err
	}
	pcfg.MaxConns = 8
	pcfg.ConnConfig.RuntimeParams["statement_timeout"] = "0"
	s.pool, err = pgxpool.NewWithConfig(ctx, pcfg)
	return err
}

// dropDatabase drops the bench's database, whoever is still connected.
func (s *stack) dropDatabase() error {
	if s.dbName == "" {
		return nil
	}
	if s.pool != nil {
		s.pool.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.dbName}.Sanitize()+" WITH (FORCE)")
	return err
}

// tallyEnv is the environment of every tally command the bench runs.
func (s *stack) tallyEnv(extra ...string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "TALLY_") {
			env = append(env, kv)
		}
	}
	env = append(env, "DATABASE_URL="+s.dbURL, "TALLY_LOG_LEVEL=warn", "TALLY_SHUTDOWN_TIMEOUT=5s")
	return append(env, extra...)
}

// runTally runs a tally command to its end and returns what it printed.
func (s *stack) runTally(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.tallyEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tally %s: %w: %s", strings.Join(args, " "), err, lastLines(string(out), 5))
	}
	return string(out), nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// start starts a long-running process and waits until health answers 200.
func (s *stack) start(ctx context.Context, name, health string, env []string, args ...string) (*process, error) {
	p := &process{name: name, log: filepath.Join(s.dir, name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(s.bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.done) }()
	deadline := time.Now().Add(90 * time.Second) // a first start migrates
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited at start: %s", name, lastLines(readFile(p.log), 10))
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(health); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not answer %s in time: %s", name, health, lastLines(readFile(p.log), 10))
		}
	}
}

// stop ends the process with SIGTERM, then SIGKILL after 10 seconds.
func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startApp starts the partner simulator and `tally serve --demo` on free ports.
func (s *stack) startApp(ctx context.Context) error {
	pport, err := freePort()
	if err != nil {
		return err
	}
	s.partnerURL = fmt.Sprintf("http://127.0.0.1:%d", pport)
	s.partner, err = s.start(ctx, "partner-sim", s.partnerURL+"/healthz", s.tallyEnv(),
		"partner-sim", "--addr", fmt.Sprintf("127.0.0.1:%d", pport))
	if err != nil {
		return err
	}
	tport, err := freePort()
	if err != nil {
		return err
	}
	s.tallyURL = fmt.Sprintf("http://127.0.0.1:%d", tport)
	s.tally, err = s.start(ctx, "tally-serve", s.tallyURL+"/healthz",
		s.tallyEnv("TALLY_PARTNER_URL="+s.partnerURL), "serve", "--demo", "--addr", fmt.Sprintf("127.0.0.1:%d", tport))
	return err
}

// stopApp stops Tally first (its workers call the partner), then the simulator.
func (s *stack) stopApp() {
	s.tally.stop()
	s.partner.stop()
}

// memory is a process's resident memory now and at its peak, in MiB, from /proc.
func memory(pid int) (rss, hwm float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
		if !found || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = kb / 1024
		} else {
			hwm = kb / 1024
		}
	}
	return rss, hwm, sc.Err()
}

// rssSampler records the largest VmRSS of a process while it runs.
type rssSampler struct {
	mu   sync.Mutex
	peak float64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	r := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if rss, _, err := memory(pid); err == nil {
				r.mu.Lock()
				r.peak = max(r.peak, rss)
				r.mu.Unlock()
			}
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

// end stops sampling and returns the peak.
func (r *rssSampler) end() float64 {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
