// Command healthcheck is the probe of the containers' health checks: Tally's image is
// distroless, with no shell, curl or wget. It asks for its one argument, a URL, and exits 0
// when the answer is 2xx, 1 otherwise.
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: healthcheck URL")
		os.Exit(2)
	}
	// Shorter than the health check's own timeout, so that a hung process reads as unhealthy
	// with a reason.
	client := http.Client{Timeout: 2 * time.Second}
	res, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		fmt.Fprintln(os.Stderr, os.Args[1]+": "+res.Status)
		os.Exit(1)
	}
}
