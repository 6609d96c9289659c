package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"tally/jobs"
)

const envHelp = `  DATABASE_URL          PostgreSQL URL (default postgres://postgres@127.0.0.1:5432/tally?sslmode=disable)
  TALLY_ADDR            address to listen on (default localhost:8080); the console serves /metrics
                        and /healthz there
  TALLY_METRICS_ADDR    where 'tally worker' serves /metrics and /healthz (default localhost:9091)
  TALLY_PPROF_ADDR      if set, where Go's profiles are served (/debug/pprof/); keep it private
  TALLY_PARTNER_URL     the partner API the workers call (default http://localhost:8081; 'tally partner-sim' serves one)
  TALLY_DEMO            true: demo accounts can sign in (default false; 'make run' turns it on)
  TALLY_SECURE_COOKIES  true: session cookie only over HTTPS (set it when served over TLS)
  TALLY_TRUST_PROXY     true: client address from X-Forwarded-For (only behind a proxy)
  TALLY_LOG_LEVEL       debug, info, warn or error (default info)
  TALLY_LOG_JSON        true: logs as JSON lines (default text)
  TALLY_STATEMENT_TIMEOUT
                        longest SQL statement of the console and the workers (default 30s; 0: none);
                        migrations and seeding have no limit
  TALLY_SHUTDOWN_TIMEOUT
                        on SIGTERM, how long running jobs and requests may finish before they are
                        cancelled (default 30s)
  TALLY_PARTNER_TIMEOUT longest call to the partner API (default 10s); its job may run 5s more
  TALLY_JOB_TIMEOUT     longest run of the other jobs: expiry, purge (default 1m)
  TALLY_RESCUE_AFTER    how long a job may stay running before it is taken for a dead worker's and
                        run again (default: the longest job timeout plus 1m; not less than that timeout)
  TALLY_CIRCUIT_OPEN_FOR
                        how long the partner circuit breaker, once open (5 failed calls in a row),
                        holds partner jobs back before a probe call (default 30s)
  TALLY_PARTNER_WORKERS how many partner jobs a worker process runs at once (default 200); keep it
                        above the payout rate times the partner's latency
  TALLY_FETCH_COOLDOWN  shortest time between two fetches of a queue's jobs (default 2ms); longer
                        means fewer queries and later job starts
  TALLY_FETCH_POLL      how often workers look for jobs whose notification they missed (default 100ms)
`

// Config is everything tally reads from the environment.
type Config struct {
	DatabaseURL string
	Addr        string
	// MetricsAddr is where a worker, which has no console, serves /metrics and /healthz;
	// metricsAddrSet says it was set, not the default.
	MetricsAddr    string
	metricsAddrSet bool
	// PprofAddr, when set, serves Go's profiles; empty: none.
	PprofAddr     string
	PartnerURL    string
	Demo          bool
	SecureCookies bool
	TrustProxy    bool
	LogLevel      slog.Level
	LogJSON       bool
	// StatementTimeout is the serving pool's statement_timeout; zero leaves the server's.
	StatementTimeout time.Duration
	// ShutdownTimeout is how long a stop waits for running work before cancelling it.
	ShutdownTimeout time.Duration
	// PartnerTimeout, JobTimeout and RescueAfter are the workers' (jobs.Config); zero is
	// the default.
	PartnerTimeout time.Duration
	JobTimeout     time.Duration
	RescueAfter    time.Duration
	CircuitOpenFor time.Duration
	FetchCooldown  time.Duration
	FetchPoll      time.Duration
	PartnerWorkers int
}

func configFromEnv() (Config, error) {
	cfg := Config{
		DatabaseURL: env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tally?sslmode=disable"),
		Addr:        env("TALLY_ADDR", "localhost:8080"),
		MetricsAddr: env("TALLY_METRICS_ADDR", "localhost:9091"),
		PprofAddr:   env("TALLY_PPROF_ADDR", ""),
		PartnerURL:  env("TALLY_PARTNER_URL", "http://localhost:8081"),
		// Far above any page's queries, well below what would hold a connection for good.
		StatementTimeout: 30 * time.Second,
		// Longer than a partner job may run (15s by default), so that a stop lets it finish.
		ShutdownTimeout: 30 * time.Second,
	}
	cfg.metricsAddrSet = strings.TrimSpace(os.Getenv("TALLY_METRICS_ADDR")) != ""
	var err error
	for _, d := range []struct {
		name string
		dst  *time.Duration
		zero bool // whether 0 is allowed
	}{
		{"TALLY_STATEMENT_TIMEOUT", &cfg.StatementTimeout, true},
		{"TALLY_SHUTDOWN_TIMEOUT", &cfg.ShutdownTimeout, false},
		{"TALLY_PARTNER_TIMEOUT", &cfg.PartnerTimeout, false},
		{"TALLY_JOB_TIMEOUT", &cfg.JobTimeout, false},
		{"TALLY_RESCUE_AFTER", &cfg.RescueAfter, false},
		{"TALLY_CIRCUIT_OPEN_FOR", &cfg.CircuitOpenFor, false},
		{"TALLY_FETCH_COOLDOWN", &cfg.FetchCooldown, false},
		{"TALLY_FETCH_POLL", &cfg.FetchPoll, false},
	} {
		v := strings.TrimSpace(os.Getenv(d.name))
		if v == "" {
			continue
		}
		if v == "0" && d.zero {
			*d.dst = 0
			continue
		}
		if *d.dst, err = time.ParseDuration(v); err != nil || *d.dst <= 0 {
			return cfg, fmt.Errorf("%s=%q: want a positive duration such as 30s or 2m", d.name, v)
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"TALLY_DEMO", &cfg.Demo},
		{"TALLY_SECURE_COOKIES", &cfg.SecureCookies},
		{"TALLY_TRUST_PROXY", &cfg.TrustProxy},
		{"TALLY_LOG_JSON", &cfg.LogJSON},
	} {
		if v := os.Getenv(b.name); v != "" {
			if *b.dst, err = strconv.ParseBool(v); err != nil {
				return cfg, fmt.Errorf("%s=%q: want true or false", b.name, v)
			}
		}
	}
	if v := strings.TrimSpace(os.Getenv("TALLY_PARTNER_WORKERS")); v != "" {
		if cfg.PartnerWorkers, err = strconv.Atoi(v); err != nil || cfg.PartnerWorkers < 1 || cfg.PartnerWorkers > 10_000 {
			return cfg, fmt.Errorf("TALLY_PARTNER_WORKERS=%q: want a whole number from 1 to 10000", v)
		}
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(env("TALLY_LOG_LEVEL", "info"))); err != nil {
		return cfg, fmt.Errorf("TALLY_LOG_LEVEL: %w", err)
	}
	return cfg, nil
}

// log prints the configuration at start, without secrets.
func (c Config) log(log *slog.Logger) {
	w := c.jobs().WithDefaults()
	log.Info("configuration", "database", redact(c.DatabaseURL), "addr", c.Addr, "metrics_addr", c.MetricsAddr,
		"pprof_addr", c.PprofAddr, "partner", c.PartnerURL, "demo", c.Demo,
		"secure_cookies", c.SecureCookies, "trust_proxy", c.TrustProxy, "log_level", c.LogLevel.String(),
		"statement_timeout", c.StatementTimeout, "shutdown_timeout", c.ShutdownTimeout,
		"partner_timeout", w.PartnerTimeout, "job_timeout", w.JobTimeout, "rescue_after", w.RescueAfter,
		"circuit_open_for", w.CircuitOpenFor, "partner_workers", w.PartnerWorkers, "fetch_cooldown", w.FetchCooldown,
		"fetch_poll", w.FetchPoll)
}

// jobs is the workers' part of the configuration.
func (c Config) jobs() jobs.Config {
	return jobs.Config{PartnerURL: c.PartnerURL, PartnerTimeout: c.PartnerTimeout, JobTimeout: c.JobTimeout, RescueAfter: c.RescueAfter,
		CircuitOpenFor: c.CircuitOpenFor, FetchCooldown: c.FetchCooldown, FetchPoll: c.FetchPoll, PartnerWorkers: c.PartnerWorkers}
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}

func env(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}
