package jobs_test

import (
	"context"
	"math"
	"testing"
	"time"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
	"tally/partnersim"
)

// The console sets the simulator's faults over its /control, audited; a change the simulator
// did not take leaves no audit row.
func TestPartnerControl(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	sim, url := fixture.Partner(t)
	sim.SetFaults(partnersim.Faults{TimeoutRate: 0.25, Hang: 2 * time.Second})
	client := fixture.Inserter(t, pool)
	ops := fixture.User(t, pool, "ops@example.com", tally.RoleOperator)
	actor := tally.Actor{ID: ops.ID, Email: ops.Email, RequestID: "0123456789abcdef01234567"}
	control := jobs.NewPartnerControl(url)
	audits := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'partner.faults'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if f, err := control.Faults(ctx); err != nil || f != (jobs.PartnerFaults{}) {
		t.Errorf("faults at start: %+v, %v; want none", f, err)
	}
	want := jobs.PartnerFaults{ErrorRate: 0.3, Latency: 200 * time.Millisecond, Outage: true}
	got, err := jobs.SetPartnerFaults(ctx, client, control, actor, want)
	if err != nil || got != want {
		t.Fatalf("set: %+v, %v; want %+v", got, err, want)
	}
	// The console's fields are set; the others (timeouts, set by flags) are kept.
	if f := sim.Faults(); f.ErrorRate != 0.3 || f.Latency != 200*time.Millisecond || !f.Outage || f.Reject || f.TimeoutRate != 0.25 {
		t.Errorf("simulator's faults: %+v", f)
	}
	var detail auditedFaults
	var actorEmail, requestID string
	if err := pool.QueryRow(ctx, `SELECT detail, actor, request_id FROM audit_events WHERE action = 'partner.faults' AND record_type = 'partner'`).
		Scan(&detail, &actorEmail, &requestID); err != nil {
		t.Fatal(err)
	}
	if actorEmail != "ops@example.com" || requestID != actor.RequestID || detail.Before.Outage || detail.Before.ErrorRate != 0 ||
		!detail.After.Outage || detail.After.ErrorRate != 0.3 || detail.After.LatencyMS != 200 || detail.After.Reject {
		t.Errorf("audit row: %+v by %s (%s)", detail, actorEmail, requestID)
	}
	if s := got.String(); s != "outage (every call 503), 30% errors, 200 ms latency" {
		t.Errorf("said as %q", s)
	}

	for _, bad := range []jobs.PartnerFaults{{ErrorRate: 1.5}, {ErrorRate: -0.1}, {ErrorRate: math.NaN()}, {Latency: -time.Second}, {Latency: 2 * time.Minute}} {
		if _, err := jobs.SetPartnerFaults(ctx, client, control, actor, bad); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("%+v: %v; want invalid", bad, err)
		}
	}
	down := jobs.NewPartnerControl("http://127.0.0.1:1")
	if _, err := jobs.SetPartnerFaults(ctx, client, down, actor, jobs.PartnerFaults{}); tally.ErrorCode(err) != tally.EUNPROCESSABLE {
		t.Errorf("simulator down: %v; want a plain refusal", err)
	}
	if n := audits(); n != 1 {
		t.Errorf("%d audit rows; want 1: refused changes leave none", n)
	}
	if f := sim.Faults(); !f.Outage {
		t.Errorf("a refused change changed the simulator: %+v", f)
	}
	if got, err := jobs.SetPartnerFaults(ctx, client, control, actor, jobs.PartnerFaults{}); err != nil || got != (jobs.PartnerFaults{}) || got.String() != "none: the partner answers every call" {
		t.Errorf("clear: %+v, %v", got, err)
	}
}

// auditedFaults is the detail of a partner.faults audit row.
type auditedFaults struct {
	Before, After struct {
		ErrorRate float64 `json:"error_rate"`
		LatencyMS int64   `json:"latency_ms"`
		Outage    bool    `json:"outage"`
		Reject    bool    `json:"reject"`
	}
}
