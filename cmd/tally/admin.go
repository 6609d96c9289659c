package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"tally"
	"tally/accounts"
	"tally/migrations"
	"tally/seed"
)

func runMigrate(ctx context.Context, cfg Config, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tally migrate\n\nApplies River's and Tally's pending migrations. Safe to run again.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := migrate(ctx, cfg, log); err != nil {
		return err
	}
	log.Info("database is up to date")
	return nil
}

func runUser(ctx context.Context, cfg Config, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(out, "Usage: tally user add -email EMAIL -role ROLE [-name NAME]\n\nThe password is read from TALLY_PASSWORD or, if unset, from standard input.")
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			return nil
		}
		return fmt.Errorf("unknown user command %q", args[0])
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tally user add -email EMAIL -role ROLE [-name NAME]\n\n"+
			"Creates a user. The password is read from TALLY_PASSWORD or, if unset, from the first line of standard input.\n\nFlags:")
		fs.PrintDefaults()
	}
	email := fs.String("email", "", "the user's email, used to sign in")
	name := fs.String("name", "", "the user's name")
	role := fs.String("role", "staff", "admin, staff, operator or engineer")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	password := os.Getenv("TALLY_PASSWORD")
	if password == "" {
		fmt.Fprint(out, "Password: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("no password given (set TALLY_PASSWORD or type it)")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	u, err := accounts.NewService(pool, false).Create(ctx, tally.Actor{Email: "tally user add"}, accounts.NewUser{
		Email: *email, Name: *name, Role: tally.Role(*role), Password: password,
	})
	if err != nil {
		return fmt.Errorf("%s", tally.ErrorMessage(err))
	}
	fmt.Fprintf(out, "Created %s (%s), id %d.\n", u.Email, u.Role, u.ID)
	return nil
}

func runSeed(ctx context.Context, cfg Config, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: tally seed [flags]\n\nFills the database with a demo business. Safe to run again: without -reservations it adds\n"+
			"nothing once there is data. A volume at least as large as what is there is loaded without the\n"+
			"tables' indexes and foreign keys, rebuilt after: those tables, and the users and resources their\n"+
			"keys point at, are locked until it commits (sign-in waits): seed a volume before serving, not\n"+
			"beside a console in use.\n\nFlags:")
		fs.PrintDefaults()
	}
	demo := fs.Bool("demo-accounts", false, "also create the demo accounts (one per role, password "+accounts.DemoPassword+")")
	count := fs.Int("reservations", 0, "add this many reservations, with the slots and customers to hold them, via COPY (0: the demo business, once)")
	finished := fs.Int("finished-jobs", 0, "also add this many finished River jobs (notices, payouts and maintenance of the last week, some failed) about the reservations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := openMaintenancePool(ctx, cfg) // a COPY of a million rows outlasts any statement timeout
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool, log); err != nil {
		return err
	}
	if *demo {
		if err := accounts.NewService(pool, true).EnsureDemoAccounts(ctx); err != nil {
			return err
		}
		fmt.Fprintln(out, "Demo accounts ready.")
	}
	if *count < 0 || *count > 50_000_000 {
		return fmt.Errorf("-reservations must be between 0 and 50000000")
	}
	if *finished < 0 || *finished > 50_000_000 {
		return fmt.Errorf("-finished-jobs must be between 0 and 50000000")
	}
	sum, err := seed.Run(ctx, pool, seed.Options{Reservations: *count, FinishedJobs: *finished, Progress: out, Random: uint64(time.Now().UnixNano())})
	if err != nil {
		return err
	}
	if sum.Reservations == 0 && sum.FinishedJobs == 0 {
		fmt.Fprintln(out, "Demo data already there; nothing to add (use -reservations N to add more).")
		return nil
	}
	if sum.Reservations > 0 {
		fmt.Fprintf(out, "Seeded %d resources, %d slots, %d customers, %d reservations, %d ledger entries.\n",
			sum.Resources, sum.Slots, sum.Customers, sum.Reservations, sum.LedgerEntries)
	}
	if sum.FinishedJobs > 0 {
		fmt.Fprintf(out, "Seeded %d finished jobs.\n", sum.FinishedJobs)
	}
	fmt.Fprintf(out, "Took %s.\n", sum.Took.Round(time.Millisecond))
	return nil
}
