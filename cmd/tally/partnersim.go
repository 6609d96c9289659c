package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"tally/partnersim"
)

func runPartnerSim(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("partner-sim", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: tally partner-sim [flags]

Runs the simulated partner API that Tally's workers call:
  POST /notices, POST /payouts (Idempotency-Key required; a known key is never paid twice),
  GET /payouts, GET /notices, GET /control, POST /control (change the faults while it runs):
  curl -d '{"outage":true}' http://localhost:8081/control

Flags:`)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "localhost:8081", "address to listen on")
	var f partnersim.Faults
	fs.Float64Var(&f.ErrorRate, "error-rate", 0, "share of requests (0..1) answered 503")
	fs.DurationVar(&f.Latency, "latency", 0, "delay before every answer")
	fs.Float64Var(&f.TimeoutRate, "timeout-rate", 0, "share of requests (0..1) done but answered only after -hang")
	fs.DurationVar(&f.Hang, "hang", 30*time.Second, "how long a 'timed out' answer is held back")
	fs.BoolVar(&f.Outage, "outage", false, "answer every request 503")
	fs.BoolVar(&f.Reject, "reject", false, "answer every request 422 (a permanent refusal)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: partnersim.New(f).Handler(), ReadHeaderTimeout: 10 * time.Second}
	// No "http://" here: the first URL that `make run` prints must be Tally's own.
	fmt.Fprintf(out, "Partner simulator listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	log.Info("partner simulator stopping")
	return srv.Shutdown(shutdown)
}
