// Package metrics is what Tally tells Prometheus (DESIGN §8): HTTP latency by route, the
// outcomes of the reservation actions, the jobs River works, the queue's depth, the partner's
// circuit breaker and the database pool. Every collector lives on a *prometheus.Registry the
// process makes and passes down; nothing is registered globally.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tally"
)

// Unmatched is the route label of a request no route answered: the raw address would let
// anyone make a new series with every request.
const Unmatched = "unmatched"

// Action outcomes.
const (
	// OutcomeSuccess is an action done.
	OutcomeSuccess = "success"
	// OutcomeReplay is a request whose idempotency key had done it already: nothing was done again.
	OutcomeReplay = "replay"
	// OutcomeConflict is an action the reservation's state refused (already approved, sold
	// out, a request with the same key still running): a 409.
	OutcomeConflict = "conflict"
	// OutcomeRefused is bad input: no such reservation, a key reused for another request.
	OutcomeRefused = "refused"
	// OutcomeError is an internal error.
	OutcomeError = "error"
	// OutcomeNotDone is an item of a bulk action left undone: refused (not approved, say) or
	// failed; the page says which and why.
	OutcomeNotDone = "not_done"
)

// Metrics are the collectors of one process, on its registry.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.HistogramVec
	actions  *prometheus.CounterVec
	jobs     *prometheus.CounterVec
	jobRun   *prometheus.HistogramVec
	jobWait  *prometheus.HistogramVec
}

// latencyBuckets span a fast page (1 ms) to a slow statement (10 s).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New registers Tally's own collectors on reg. The process-wide ones (Go runtime, process,
// the pool, the queue) are added with the Register and Watch functions, by whoever owns them.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tally_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route (its template, e.g. /reservations/:id/approve), method and status.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "status"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_actions_total",
			Help: "Reservation actions by action (reserve, approve, reject, cancel, settle; bulk_settle counts each reservation) and outcome (success, replay, conflict, refused, error; not_done for a bulk item).",
		}, []string{"action", "outcome"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tally_jobs_worked_total",
			Help: "Job runs this process finished, by kind and outcome (completed, failed: to be retried, discarded: failed for the last time, cancelled, snoozed).",
		}, []string{"kind", "outcome"}),
		jobRun: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tally_job_run_duration_seconds",
			Help:    "How long a job's run took in its worker, by kind and outcome.",
			Buckets: latencyBuckets,
		}, []string{"kind", "outcome"}),
		jobWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tally_job_wait_duration_seconds",
			Help:    "How long a job waited, available, before a worker started it, by kind.",
			Buckets: latencyBuckets,
		}, []string{"kind"}),
	}
	reg.MustRegister(m.requests, m.actions, m.jobs, m.jobRun, m.jobWait)
	return m
}

// RegisterRuntime adds the Go runtime's and the process's collectors (memory, goroutines,
// CPU, open files) to reg.
func RegisterRuntime(reg *prometheus.Registry) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Registry is the registry the collectors are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in Prometheus's text format. A collector that fails is
// reported in the scrape, and the others are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.registry, // counts the scrapes and their errors
		Timeout:           10 * time.Second,
		EnableOpenMetrics: false,
	})
}

// Request records an HTTP request answered on route (Unmatched when no route answered).
func (m *Metrics) Request(route, method string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(took.Seconds())
}

// Action records the outcome of one reservation action: replayed is true when the request's
// idempotency key had done it already, err the action's error.
func (m *Metrics) Action(action string, replayed bool, err error) {
	m.actions.WithLabelValues(action, ActionOutcome(replayed, err)).Inc()
}

// Items records n items of a bulk action with the same outcome.
func (m *Metrics) Items(action, outcome string, n int) {
	if n > 0 {
		m.actions.WithLabelValues(action, outcome).Add(float64(n))
	}
}

// ActionOutcome names the outcome of an action that returned err (replayed: by its
// idempotency key).
func ActionOutcome(replayed bool, err error) string {
	if err == nil {
		if replayed {
			return OutcomeReplay
		}
		return OutcomeSuccess
	}
	switch tally.ErrorCode(err) {
	case tally.ECONFLICT:
		return OutcomeConflict
	case tally.EINVALID, tally.ENOTFOUND, tally.EUNPROCESSABLE, tally.EFORBIDDEN:
		return OutcomeRefused
	}
	return OutcomeError
}
