package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"tally/jobs"
	"tally/queries"
)

// QueueStates are the job states whose depth is exported: every state a job waits or runs
// in, and discarded, the failures an operator has to look at. Completed and cancelled jobs
// (a million of them) are history, not depth.
var QueueStates = []string{"available", "pending", "running", "retryable", "scheduled", "discarded"}

// QueueCountCap is where a count of one state and queue stops: the count walks an index,
// and a scrape must stay cheap however deep the queue.
const QueueCountCap = 100_000

// circuitStates are the partner circuit breaker's states.
var circuitStates = []string{jobs.CircuitClosed, jobs.CircuitOpen, jobs.CircuitHalfOpen}

// DatabaseConfig tunes the reads a scrape makes.
type DatabaseConfig struct {
	// CacheFor is how long one reading serves scrapes (zero: 5 seconds): many processes and
	// scrapers may ask at once, and the numbers change slowly.
	CacheFor time.Duration
	// Timeout bounds one reading (zero: 2 seconds).
	Timeout time.Duration
}

// RegisterDatabase adds to reg the queue's depth per state and queue and the partner circuit
// breaker's state, read from the database through pool when scraped.
func RegisterDatabase(reg *prometheus.Registry, pool *pgxpool.Pool, cfg DatabaseConfig) {
	if cfg.CacheFor == 0 {
		cfg.CacheFor = 5 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	reg.MustRegister(&databaseCollector{
		pool: pool, cfg: cfg,
		jobs: prometheus.NewDesc("tally_jobs",
			"Jobs in River's table by state and queue, counted up to 100000 each (completed and cancelled jobs are not counted).",
			[]string{"state", "queue"}, nil),
		circuit: prometheus.NewDesc("tally_partner_circuit_state",
			"The partner circuit breaker's state, as the workers last wrote it: 1 for the current state (closed, open, half-open), 0 for the others.",
			[]string{"state"}, nil),
		failures: prometheus.NewDesc("tally_partner_circuit_failures",
			"Partner calls that had failed in a row when the circuit breaker was last written.", nil, nil),
	})
}

type databaseCollector struct {
	pool                    *pgxpool.Pool
	cfg                     DatabaseConfig
	jobs, circuit, failures *prometheus.Desc
	mu                      sync.Mutex // guards what follows, and one reading at a time
	readAt                  time.Time
	reading                 databaseReading
	err                     error
}

type databaseReading struct {
	jobs    []queries.RiverJobCountByStateQueueRow
	circuit jobs.CircuitStatus
}

// Describe sends the descriptions of the series.
func (c *databaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.circuit
	ch <- c.failures
}

// Collect sends the latest reading, reading again when it is older than CacheFor.
func (c *databaseCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if time.Since(c.readAt) >= c.cfg.CacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
		c.reading, c.err = c.read(ctx)
		cancel()
		c.readAt = time.Now()
	}
	r, err := c.reading, c.err
	c.mu.Unlock()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.jobs, err)
		return
	}

	depth := map[[2]string]int64{}
	for _, q := range []string{jobs.QueueDefault, jobs.QueuePartner, jobs.QueueMaintenance} {
		for _, st := range QueueStates {
			depth[[2]string{st, q}] = 0 // an empty queue is 0, not a missing series
		}
	}
	for _, row := range r.jobs {
		depth[[2]string{row.State, row.Queue}] = row.Jobs
	}
	for key, n := range depth {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(n), key[0], key[1])
	}
	for _, st := range circuitStates {
		v := 0.0
		if r.circuit.State == st {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.circuit, prometheus.GaugeValue, v, st)
	}
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.GaugeValue, float64(r.circuit.Failures))
}

// read counts the jobs and reads the circuit in one read-only transaction.
func (c *databaseCollector) read(ctx context.Context) (databaseReading, error) {
	var r databaseReading
	err := pgx.BeginTxFunc(ctx, c.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := queries.New(tx)
		// The jobs console's settings: no JIT for a few index probes that the planner prices
		// high on a large table.
		if err := q.RiverJobConsoleTx(ctx); err != nil {
			return err
		}
		var err error
		if r.jobs, err = q.RiverJobCountByStateQueue(ctx, queries.RiverJobCountByStateQueueParams{
			States: QueueStates, Cap: QueueCountCap,
		}); err != nil {
			return err
		}
		r.circuit, err = jobs.Circuit(ctx, tx)
		return err
	})
	return r, err
}

// RegisterPool adds pool's statistics to reg, read when scraped.
func RegisterPool(reg *prometheus.Registry, pool *pgxpool.Pool) {
	reg.MustRegister(poolCollector{pool})
}

type poolCollector struct{ pool *pgxpool.Pool }

var poolDescs = struct {
	acquired, idle, total, constructing, max          *prometheus.Desc
	acquires, acquireSeconds, emptyAcquires, canceled *prometheus.Desc
	emptyWaitSeconds, newConns                        *prometheus.Desc
}{
	acquired:         prometheus.NewDesc("tally_db_pool_acquired_connections", "Connections in use.", nil, nil),
	idle:             prometheus.NewDesc("tally_db_pool_idle_connections", "Connections open and idle.", nil, nil),
	total:            prometheus.NewDesc("tally_db_pool_connections", "Connections open (in use, idle and being made).", nil, nil),
	constructing:     prometheus.NewDesc("tally_db_pool_constructing_connections", "Connections being made.", nil, nil),
	max:              prometheus.NewDesc("tally_db_pool_max_connections", "The most connections the pool opens.", nil, nil),
	acquires:         prometheus.NewDesc("tally_db_pool_acquires_total", "Connections taken from the pool.", nil, nil),
	acquireSeconds:   prometheus.NewDesc("tally_db_pool_acquire_seconds_total", "Time spent taking connections from the pool.", nil, nil),
	emptyAcquires:    prometheus.NewDesc("tally_db_pool_empty_acquires_total", "Takes that found no idle connection and waited for one (or for a new one).", nil, nil),
	emptyWaitSeconds: prometheus.NewDesc("tally_db_pool_empty_acquire_wait_seconds_total", "Time those takes waited.", nil, nil),
	canceled:         prometheus.NewDesc("tally_db_pool_canceled_acquires_total", "Takes given up because their context ended.", nil, nil),
	newConns:         prometheus.NewDesc("tally_db_pool_new_connections_total", "Connections opened.", nil, nil),
}

// Describe sends the descriptions of the series.
func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	d := poolDescs
	for _, desc := range []*prometheus.Desc{d.acquired, d.idle, d.total, d.constructing, d.max, d.acquires,
		d.acquireSeconds, d.emptyAcquires, d.emptyWaitSeconds, d.canceled, d.newConns} {
		ch <- desc
	}
}

// Collect sends the pool's statistics as they are now.
func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	s, d := p.pool.Stat(), poolDescs
	gauge := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v)
	}
	counter := func(desc *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v)
	}
	gauge(d.acquired, float64(s.AcquiredConns()))
	gauge(d.idle, float64(s.IdleConns()))
	gauge(d.total, float64(s.TotalConns()))
	gauge(d.constructing, float64(s.ConstructingConns()))
	gauge(d.max, float64(s.MaxConns()))
	counter(d.acquires, float64(s.AcquireCount()))
	counter(d.acquireSeconds, s.AcquireDuration().Seconds())
	counter(d.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(d.emptyWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(d.canceled, float64(s.CanceledAcquireCount()))
	counter(d.newConns, float64(s.NewConnsCount()))
}
