// Command tally is the whole application in one binary: the web console, the River
// workers, migrations, seeding and account management. Run `tally -h` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Tally — the back-office console for reservations.

Usage: tally <command> [flags]

Commands:
  serve        run the web console and the workers in one process (the default way)
  web          run only the web console
  worker       run only the River workers
  migrate      apply database migrations (Tally's and River's)
  seed         fill the database with demo data
  user add     create a user account
  partner-sim  run the simulated partner API (notices, payouts, failure injection)

Run 'tally <command> -h' for a command's flags. Configuration comes from the environment:
` + envHelp

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal starts a graceful stop, a second one kills at once.
	go func() { <-ctx.Done(); stop() }()
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tally:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(out, usage)
		return nil
	}
	cfg, err := configFromEnv()
	if err != nil {
		return err
	}
	log := newLogger(cfg, out)
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve", "web", "worker":
		return runServe(ctx, cfg, log, cmd, args)
	case "migrate":
		return runMigrate(ctx, cfg, log, args)
	case "seed":
		return runSeed(ctx, cfg, log, args, out)
	case "partner-sim":
		return runPartnerSim(ctx, log, args, out)
	case "user":
		return runUser(ctx, cfg, args, out)
	}
	return fmt.Errorf("unknown command %q (run 'tally -h')", cmd)
}

func newLogger(cfg Config, out io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}
