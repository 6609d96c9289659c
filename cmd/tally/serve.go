package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"tally/accounts"
	"tally/jobs"
	"tally/metrics"
	"tally/migrations"
	"tally/reservations"
	"tally/web"
)

// serveWhat says what each serving command runs.
var serveWhat = map[string]string{
	"serve":  "the web console and the workers in one process",
	"web":    "the web console only",
	"worker": "the River workers only",
}

// runServe runs "serve", "web" or "worker" (name).
func runServe(ctx context.Context, cfg Config, log *slog.Logger, name string, args []string) error {
	serveWeb, work := name != "worker", name != "web"
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tally %s [flags]\n\nRuns %s. Applies pending migrations first.\n\nFlags:\n", name, serveWhat[name])
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.Demo, "demo", cfg.Demo, "demo mode: create the demo accounts and let them sign in (TALLY_DEMO)")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on (TALLY_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !serveWeb {
		cfg.log(log)
	}

	if err := migrate(ctx, cfg, log); err != nil {
		return err
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	// River logs routine work at info level, which would drown Tally's own lines: below debug
	// level, only its warnings and errors are kept.
	riverLog := log
	if !log.Enabled(ctx, slog.LevelDebug) {
		riverLog = slog.New(leveled{log.Handler(), slog.LevelWarn})
	}
	inserter, err := jobs.NewInserter(pool, riverLog)
	if err != nil {
		return err
	}
	svc := reservations.NewService(pool, inserter, reservations.Config{})

	// One registry per process, served at /metrics: the web console's address, or the
	// worker's own (TALLY_METRICS_ADDR).
	reg := prometheus.NewRegistry()
	metrics.RegisterRuntime(reg)
	metrics.RegisterPool(reg, pool)
	metrics.RegisterDatabase(reg, pool, metrics.DatabaseConfig{})
	m := metrics.New(reg)

	var workers *jobs.Client
	if work {
		jcfg := cfg.jobs()
		jcfg.Logger = riverLog
		workers, err = jobs.NewWorkerClient(pool, jcfg, svc)
		if err != nil {
			return err
		}
		// Before Start, so that no run goes uncounted.
		stopWatching := m.WatchJobs(workers)
		defer stopWatching()
		// Not ctx itself: River cancels running jobs when Start's context ends, which would
		// cut partner calls in flight on every deploy. A signal stops it gently, below.
		if err := workers.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		log.Info("workers started")
	}

	errc := make(chan error, 3)
	var servers []*http.Server // stopped together on shutdown
	if !serveWeb {
		// A worker has no console: its metrics and its health answer on an address of their own.
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
		srv, err := listen(cfg.MetricsAddr, mux, errc)
		switch {
		case err != nil && cfg.metricsAddrSet:
			return fmt.Errorf("TALLY_METRICS_ADDR: %w", err)
		case err != nil:
			// The default address, taken by another worker on this host: this one works
			// all the same, unobserved, and says how to give it an address.
			log.Error("no /metrics: the default address is taken; set TALLY_METRICS_ADDR", "addr", cfg.MetricsAddr, "err", err)
		default:
			servers = append(servers, srv)
			log.Info("metrics and health", "url", "http://"+srv.Addr+"/metrics")
		}
	}
	if cfg.PprofAddr != "" {
		srv, err := listen(cfg.PprofAddr, pprofHandler(), errc)
		if err != nil {
			return fmt.Errorf("TALLY_PPROF_ADDR: %w", err)
		}
		servers = append(servers, srv)
	}
	if serveWeb {
		if cfg.Demo {
			if err := accounts.NewService(pool, true).EnsureDemoAccounts(ctx); err != nil {
				return err
			}
		}
		handler := web.New(web.Config{
			Demo: cfg.Demo, SecureCookies: cfg.SecureCookies, TrustProxy: cfg.TrustProxy, Logger: log,
			PartnerURL: cfg.PartnerURL, Jobs: cfg.jobs(), Metrics: m,
		}, pool, svc, inserter)
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return err
		}
		srv := &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 10 * time.Second,
			// Request bodies are small forms: a slower one is a client holding a connection.
			ReadTimeout: 30 * time.Second,
			// Past the statement timeout, so that a slow query ends in an error page rather
			// than a cut connection. No route streams today; one that does (SSE) must push
			// its own deadline on with http.NewResponseController(w).SetWriteDeadline.
			WriteTimeout: max(time.Minute, cfg.StatementTimeout+15*time.Second),
			IdleTimeout:  2 * time.Minute,
		}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(ln) }()
		consoleURL := publicURL(ln.Addr(), cfg.Addr)
		fmt.Printf("\nTally is running at %s\n", consoleURL)
		if cfg.Demo {
			fmt.Printf("Demo accounts (password %q):\n", accounts.DemoPassword)
			for _, a := range accounts.DemoAccounts {
				fmt.Printf("  %-22s %s\n", a.Email, a.Role)
			}
			fmt.Printf("Make the partner fail, and heal it, at %s/partner (as an operator).\n", consoleURL)
		}
		fmt.Println("Press Ctrl-C to stop.")
		cfg.log(log) // after the banner, so that the first address printed is Tally's
	}

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdown, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(shutdown); err != nil {
				log.Error("web shutdown", "err", err)
				srv.Close()
			}
		})
	}
	if workers != nil {
		wg.Go(func() {
			if err := stopWorkers(shutdown, workers, log); err != nil {
				log.Error("workers shutdown", "err", err)
			}
		})
	}
	wg.Wait()
	log.Info("stopped")
	return nil
}

// listen serves handler on addr until shut down; Serve's end goes to errc.
func listen(addr string, handler http.Handler, errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Addr: ln.Addr().String(), Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { errc <- srv.Serve(ln) }()
	return srv, nil
}

// pprofHandler serves Go's profiles (TALLY_PPROF_ADDR), on a mux of its own: importing
// net/http/pprof for its side effect would put them on http.DefaultServeMux.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// stopWorkers lets running jobs finish until ctx ends, then cancels them. A job cut off is
// retried later, and its idempotency key keeps the partner from acting twice: cancelling
// costs a retry, not a payout.
func stopWorkers(ctx context.Context, workers *jobs.Client, log *slog.Logger) error {
	err := workers.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	log.Warn("jobs still running at the shutdown timeout: cancelling them")
	hard, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return workers.StopAndCancel(hard)
}

// migrate applies pending migrations on a pool of its own, without the statement timeout:
// building an index on a large table may take longer than any page should.
func migrate(ctx context.Context, cfg Config, log *slog.Logger) error {
	pool, err := openMaintenancePool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrations.Up(ctx, pool, log)
}

// openPool opens the pool of the console and the workers, whose statements stop at
// cfg.StatementTimeout: a runaway query is cancelled rather than holding a connection.
func openPool(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	params := map[string]string{}
	if cfg.StatementTimeout > 0 {
		params["statement_timeout"] = strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)
	}
	return connect(ctx, cfg, params)
}

// openMaintenancePool opens a pool for migrations and seeding, which may run long
// statements (a COPY of a million rows, an index build): no statement timeout, whatever
// the server's or the role's default.
func openMaintenancePool(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	return connect(ctx, cfg, map[string]string{"statement_timeout": "0"})
}

// defaultPoolMax is the size of a pool whose DATABASE_URL does not set pool_max_conns.
const defaultPoolMax = 16

func connect(ctx context.Context, cfg Config, params map[string]string) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	maps.Copy(pcfg.ConnConfig.RuntimeParams, params)
	if !strings.Contains(cfg.DatabaseURL, "pool_max_conns") {
		// pgx's default is the machine's cores, at least 4: on a small machine every request
		// and every job then queues for one of 4 connections while Postgres idles (approves
		// over HTTP ran at 0.47 of pgbench with 4, 0.73 with 16). pool_max_conns in
		// DATABASE_URL sets it.
		pcfg.MaxConns = max(pcfg.MaxConns, defaultPoolMax)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database at %s: %w", redact(cfg.DatabaseURL), err)
	}
	return pool, nil
}

// publicURL is the address to print: "localhost" for a loopback or unspecified host.
func publicURL(addr net.Addr, configured string) string {
	host, _, _ := net.SplitHostPort(configured)
	port := addr.(*net.TCPAddr).Port
	if host == "" || host == "0.0.0.0" || host == "::" || host == "127.0.0.1" {
		host = "localhost"
	}
	return fmt.Sprintf("http://%s:%d", host, port)
}

// leveled drops records below min.
type leveled struct {
	slog.Handler
	min slog.Level
}

func (l leveled) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= l.min && l.Handler.Enabled(ctx, level)
}
