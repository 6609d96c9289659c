package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestConfigDurations(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://tally:hunter2@db:5432/tally")
	for _, name := range []string{"TALLY_STATEMENT_TIMEOUT", "TALLY_SHUTDOWN_TIMEOUT", "TALLY_PARTNER_TIMEOUT", "TALLY_JOB_TIMEOUT", "TALLY_RESCUE_AFTER", "TALLY_CIRCUIT_OPEN_FOR",
		"TALLY_FETCH_COOLDOWN", "TALLY_FETCH_POLL", "TALLY_PARTNER_WORKERS"} {
		t.Setenv(name, "")
	}
	cfg, err := configFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StatementTimeout != 30*time.Second || cfg.ShutdownTimeout != 30*time.Second {
		t.Errorf("defaults: statement %s, shutdown %s", cfg.StatementTimeout, cfg.ShutdownTimeout)
	}
	var out bytes.Buffer
	cfg.log(slog.New(slog.NewTextHandler(&out, nil)))
	for _, want := range []string{"statement_timeout=30s", "shutdown_timeout=30s", "partner_timeout=10s", "job_timeout=1m0s", "rescue_after=2m0s", "circuit_open_for=30s",
		"partner_workers=200", "fetch_cooldown=2ms", "fetch_poll=100ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %s: %s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "hunter2") {
		t.Errorf("banner shows the password: %s", out.String())
	}

	t.Setenv("TALLY_STATEMENT_TIMEOUT", "0")
	t.Setenv("TALLY_RESCUE_AFTER", "5m")
	t.Setenv("TALLY_CIRCUIT_OPEN_FOR", "5s")
	t.Setenv("TALLY_FETCH_COOLDOWN", "50ms")
	t.Setenv("TALLY_PARTNER_WORKERS", "40")
	if cfg, err := configFromEnv(); err != nil || cfg.StatementTimeout != 0 || cfg.RescueAfter != 5*time.Minute || cfg.jobs().CircuitOpenFor != 5*time.Second ||
		cfg.jobs().FetchCooldown != 50*time.Millisecond || cfg.jobs().PartnerWorkers != 40 {
		t.Errorf("statement timeout 0, rescue 5m, cooldown 50ms, 40 partner workers: %+v, %v", cfg, err)
	}
	for name, v := range map[string]string{"TALLY_SHUTDOWN_TIMEOUT": "0", "TALLY_PARTNER_TIMEOUT": "-1s", "TALLY_JOB_TIMEOUT": "soon", "TALLY_CIRCUIT_OPEN_FOR": "0",
		"TALLY_FETCH_POLL": "0", "TALLY_PARTNER_WORKERS": "0", "TALLY_FETCH_COOLDOWN": "fast"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, v)
			if _, err := configFromEnv(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: %v", name, v, err)
			}
		})
	}
}
