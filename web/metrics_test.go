package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
	"tally/metrics"
	"tally/queries"
	"tally/reservations"
	"tally/web"
)

// scraped is one scrape of /metrics.
type scraped map[string]*dto.MetricFamily

// scrape reads url's /metrics over HTTP, as Prometheus does.
func scrape(t *testing.T, base string) scraped {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// value sums the series of name whose labels include the pairs given (name, value, ...): a
// counter's or a gauge's value, a histogram's count of observations.
func (s scraped) value(name string, pairs ...string) float64 {
	var sum float64
	fam := s[name]
	if fam == nil {
		return 0
	}
series:
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(pairs); i += 2 {
			if labels[pairs[i]] != pairs[i+1] {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// labelValues are the values label takes in the series of name.
func (s scraped) labelValues(name, label string) []string {
	var out []string
	for _, m := range s[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

// A staff member's approvals show in /metrics as they happen: a success, the same form sent
// again as a replay that did nothing, an approval of a settled reservation as a conflict; the
// time of each request under its route's template, never under its address.
func TestMetricsCountActions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.user("kim@example.com", tally.RoleStaff)
	b := a.browser()
	b.signIn("kim@example.com")
	before := scrape(t, a.URL)
	approve := func(m scraped, outcome string) float64 {
		return m.value("tally_actions_total", "action", "approve", "outcome", outcome) -
			before.value("tally_actions_total", "action", "approve", "outcome", outcome)
	}

	n := reservationFor(t, a)
	p := b.post("/reservations", url.Values{"slot_id": {fmt.Sprint(n.SlotID)}, "customer_id": {fmt.Sprint(n.CustomerID)},
		"seats": {"1"}, "idempotency_key": {"reserve-" + fixture.Unique() + "-key"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("reserve: %d", p.Status)
	}
	id := strings.TrimPrefix(p.Location, "/reservations/")
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		t.Fatalf("reserve sent to %q", p.Location)
	}
	if m := scrape(t, a.URL); m.value("tally_actions_total", "action", "reserve", "outcome", "success") != 1 {
		t.Errorf("after a reservation: reserve success %v, want 1", m.value("tally_actions_total", "action", "reserve", "outcome", "success"))
	}

	b.get("/reservations/" + id) // the reservation's page, with its forms
	key := url.Values{"idempotency_key": {"approve-" + fixture.Unique() + "-key"}, "view": {"row"}}
	if p := b.htmx("/reservations/"+id+"/approve", key); p.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", p.Status, p.Body)
	}
	m := scrape(t, a.URL)
	if approve(m, "success") != 1 || approve(m, "replay") != 0 {
		t.Errorf("after an approval: success %v, replay %v; want 1, 0", approve(m, "success"), approve(m, "replay"))
	}

	// The same form again (a double click, a retry): done once, counted as a replay.
	if p := b.htmx("/reservations/"+id+"/approve", key); p.Status != http.StatusOK {
		t.Fatalf("approve again: %d %s", p.Status, p.Body)
	}
	m = scrape(t, a.URL)
	if approve(m, "success") != 1 || approve(m, "replay") != 1 {
		t.Errorf("after the same approval again: success %v, replay %v; want 1, 1", approve(m, "success"), approve(m, "replay"))
	}

	settle := url.Values{"idempotency_key": {"settle-" + fixture.Unique() + "-key"}, "view": {"row"}}
	if p := b.htmx("/reservations/"+id+"/settle", settle); p.Status != http.StatusOK {
		t.Fatalf("settle: %d %s", p.Status, p.Body)
	}
	late := url.Values{"idempotency_key": {"approve-" + fixture.Unique() + "-key"}, "view": {"row"}}
	if p := b.htmx("/reservations/"+id+"/approve", late); p.Status != http.StatusConflict {
		t.Fatalf("approving a settled reservation: %d, want 409", p.Status)
	}
	m = scrape(t, a.URL)
	if approve(m, "conflict") != 1 || approve(m, "success") != 1 {
		t.Errorf("after approving a settled reservation: conflict %v, success %v; want 1, 1", approve(m, "conflict"), approve(m, "success"))
	}
	if got := m.value("tally_actions_total", "action", "settle", "outcome", "success"); got != 1 {
		t.Errorf("settle success %v, want 1", got)
	}

	// Three approvals answered 200 (two) and 409 (one), timed under the route's template.
	const hist = "tally_http_request_duration_seconds"
	route := "/reservations/:id/approve"
	if got := m.value(hist, "route", route, "method", "POST", "status", "200") - before.value(hist, "route", route, "method", "POST", "status", "200"); got != 2 {
		t.Errorf("approvals answered 200 under %s: %v, want 2", route, got)
	}
	if got := m.value(hist, "route", route, "method", "POST", "status", "409"); got != 1 {
		t.Errorf("approvals answered 409 under %s: %v, want 1", route, got)
	}

	// Addresses nobody routes share one label, whatever they are; a route's own 404 keeps
	// its template.
	for i := range 5 {
		if p := b.get(fmt.Sprintf("/no-such-page-%d/%s", i, fixture.Unique())); p.Status != http.StatusNotFound {
			t.Fatalf("an unknown address: %d", p.Status)
		}
	}
	if p := b.get("/reservations/999999999"); p.Status != http.StatusNotFound {
		t.Fatalf("a missing reservation: %d", p.Status)
	}
	m = scrape(t, a.URL)
	if got := m.value(hist, "route", metrics.Unmatched, "status", "404"); got < 5 {
		t.Errorf("unknown addresses under %q: %v, want at least 5", metrics.Unmatched, got)
	}
	if got := m.value(hist, "route", "/reservations/:id", "status", "404"); got != 1 {
		t.Errorf("a missing reservation under /reservations/:id: %v, want 1", got)
	}
	for _, r := range m.labelValues(hist, "route") {
		if strings.Contains(r, "no-such-page") || strings.Contains(r, "999999999") {
			t.Errorf("a route label is an address: %q", r)
		}
	}
}

// metricsApp is a web server whose /metrics also reads the queue and the circuit from the
// database, as `tally serve` and `tally web` do, without caching between scrapes.
func metricsApp(t *testing.T) *app {
	t.Helper()
	pool := testdb.New(t)
	inserter := fixture.Inserter(t, pool)
	svc := reservations.NewService(pool, inserter, reservations.Config{})
	reg := prometheus.NewRegistry()
	metrics.RegisterDatabase(reg, pool, metrics.DatabaseConfig{CacheFor: time.Nanosecond})
	metrics.RegisterPool(reg, pool)
	cfg := web.Config{Logger: slog.New(slog.DiscardHandler), Metrics: metrics.New(reg)}
	srv := httptest.NewServer(web.New(cfg, pool, svc, inserter))
	t.Cleanup(srv.Close)
	return &app{t: t, URL: srv.URL, Pool: pool, Service: svc, Jobs: inserter}
}

// The dashboard's queue health and partner circuit say what /metrics says, read from the
// same database: jobs waiting, retrying and discarded, and the breaker's state.
func TestDashboardAgreesWithMetrics(t *testing.T) {
	t.Parallel()
	a := metricsApp(t)
	staff := a.user("kim@example.com", tally.RoleStaff)
	actor := tally.Actor{ID: staff.ID, Email: staff.Email}

	a.settled(actor, 2) // two notices and two payouts, discarded by a partner outage
	a.outage()
	a.settled(actor, 1) // a notice and a payout failing, to be retried in an hour
	failLater(t, a.Pool)
	a.settled(actor, 2) // two notices and two payouts waiting
	// The breaker as a worker writes it when it opens.
	probe := time.Now().Add(time.Hour)
	opened := time.Now()
	lastError := "partner: 503"
	if err := queries.New(a.Pool).PartnerCircuitSave(context.Background(), queries.PartnerCircuitSaveParams{
		Partner: "partner", State: jobs.CircuitOpen, Failures: 5, LastError: &lastError, OpenedAt: &opened,
		NextProbeAt: &probe, Worker: "test:1", ChangedAt: opened,
	}); err != nil {
		t.Fatal(err)
	}

	b := a.browser()
	b.signIn("kim@example.com")
	page := b.get("/")
	if page.Status != http.StatusOK {
		t.Fatalf("dashboard: %d", page.Status)
	}
	m := scrape(t, a.URL)
	card := func(testid string) string {
		return strings.TrimSpace(page.Doc.Find(`[data-testid="` + testid + `"] .card-value`).First().Text())
	}
	for _, c := range []struct {
		testid, state string
		want          int
	}{
		{"health-waiting", "available", 4},
		{"health-retryable", "retryable", 2},
		{"health-discarded", "discarded", 4},
	} {
		metric := m.value("tally_jobs", "state", c.state)
		if card(c.testid) != fmt.Sprint(metric) || metric != float64(c.want) {
			t.Errorf("%s jobs: dashboard %q, /metrics %v; want both %d", c.state, card(c.testid), metric, c.want)
		}
	}
	state, _ := page.Doc.Find(`[data-testid="partner-circuit"]`).Attr("data-state")
	if state != jobs.CircuitOpen || m.value("tally_partner_circuit_state", "state", jobs.CircuitOpen) != 1 ||
		m.value("tally_partner_circuit_state", "state", jobs.CircuitClosed) != 0 {
		t.Errorf("circuit: dashboard %q, /metrics open %v closed %v; want open in both", state,
			m.value("tally_partner_circuit_state", "state", jobs.CircuitOpen), m.value("tally_partner_circuit_state", "state", jobs.CircuitClosed))
	}
	if got := m.value("tally_partner_circuit_failures"); got != 5 {
		t.Errorf("circuit failures in /metrics: %v, want 5", got)
	}
	if got := m.value("tally_db_pool_max_connections"); got < 1 {
		t.Errorf("pool size in /metrics: %v", got)
	}
}

// failLater works the partner jobs waiting now with workers that fail, retried in an hour:
// they wait as retryable.
func failLater(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	workers := river.NewWorkers()
	fail := fmt.Errorf("partner: 503")
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[jobs.PartnerPayoutArgs]) error { return fail }))
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[jobs.NotifyCustomerArgs]) error { return fail }))
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger: slog.New(slog.DiscardHandler), FetchPollInterval: 100 * time.Millisecond, FetchCooldown: 20 * time.Millisecond, RetryPolicy: inAnHour{},
		Workers: workers, Queues: map[string]river.QueueConfig{jobs.QueuePartner: {MaxWorkers: 4}},
	})
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := c.Subscribe(river.EventKindJobFailed)
	defer cancel()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Stop(ctx) //nolint:errcheck // best effort at the end of a test
	}()
	for range 2 {
		select {
		case <-events:
		case <-time.After(30 * time.Second):
			t.Fatal("the failing jobs did not fail")
		}
	}
}

// inAnHour retries a failed job in an hour.
type inAnHour struct{}

func (inAnHour) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Hour) }
