package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
)

const envHelp = `  DATABASE_URL          PostgreSQL URL (default postgres://postgres@127.0.0.1:5432/tally?sslmode=disable)
  TALLY_ADDR            address to listen on (default localhost:8080)
  TALLY_PARTNER_URL     the partner API the workers call (default http://localhost:8081; 'tally partner-sim' serves one)
  TALLY_DEMO            true: demo accounts can sign in (default false; 'make run' turns it on)
  TALLY_SECURE_COOKIES  true: session cookie only over HTTPS (set it when served over TLS)
  TALLY_TRUST_PROXY     true: client address from X-Forwarded-For (only behind a proxy)
  TALLY_LOG_LEVEL       debug, info, warn or error (default info)
  TALLY_LOG_JSON        true: logs as JSON lines (default text)
`

// Config is everything tally reads from the environment.
type Config struct {
	DatabaseURL   string
	Addr          string
	PartnerURL    string
	Demo          bool
	SecureCookies bool
	TrustProxy    bool
	LogLevel      slog.Level
	LogJSON       bool
}

func configFromEnv() (Config, error) {
	cfg := Config{
		DatabaseURL: env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tally?sslmode=disable"),
		Addr:        env("TALLY_ADDR", "localhost:8080"),
		PartnerURL:  env("TALLY_PARTNER_URL", "http://localhost:8081"),
	}
	var err error
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
	if err := cfg.LogLevel.UnmarshalText([]byte(env("TALLY_LOG_LEVEL", "info"))); err != nil {
		return cfg, fmt.Errorf("TALLY_LOG_LEVEL: %w", err)
	}
	return cfg, nil
}

// log prints the configuration at start, without secrets.
func (c Config) log(log *slog.Logger) {
	log.Info("configuration", "database", redact(c.DatabaseURL), "addr", c.Addr, "partner", c.PartnerURL, "demo", c.Demo,
		"secure_cookies", c.SecureCookies, "trust_proxy", c.TrustProxy, "log_level", c.LogLevel.String())
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
