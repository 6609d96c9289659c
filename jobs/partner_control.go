package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"tally"
	"tally/audit"
)

// PartnerFaults are the failures the partner simulator injects, as its /control sets them.
// The demo's operators set them from the console to watch retries, the circuit breaker and
// discarded jobs happen, and recover from them.
type PartnerFaults struct {
	// ErrorRate is the share of calls (0..1) answered 503.
	ErrorRate float64
	// Latency delays every answer.
	Latency time.Duration
	// Outage answers every call 503; Reject answers every call 422, a refusal.
	Outage bool
	Reject bool
}

// MaxPartnerLatency bounds the latency an operator may set: past it, every call would time out.
const MaxPartnerLatency = time.Minute

// Validate refuses faults the simulator would not take.
func (f PartnerFaults) Validate() error {
	switch {
	case !(f.ErrorRate >= 0 && f.ErrorRate <= 1): // also NaN
		return tally.Errorf(tally.EINVALID, "The error rate must be from 0 to 100 %%.")
	case f.Latency < 0 || f.Latency > MaxPartnerLatency:
		return tally.Errorf(tally.EINVALID, "The latency must be from 0 to %d ms.", MaxPartnerLatency.Milliseconds())
	}
	return nil
}

// controlFaults is the JSON of the simulator's /control. Durations are milliseconds; the
// fields the console does not set (timeouts) are left out, and the simulator keeps them.
type controlFaults struct {
	ErrorRate float64 `json:"error_rate"`
	LatencyMS int64   `json:"latency_ms"`
	Outage    bool    `json:"outage"`
	Reject    bool    `json:"reject"`
}

// PartnerControl calls the partner simulator's /control. Only the simulator has one: in
// production the partner is someone else's, and the console offers no controls.
type PartnerControl struct {
	BaseURL string
	HTTP    *http.Client
}

// NewPartnerControl returns a PartnerControl for the simulator at baseURL.
func NewPartnerControl(baseURL string) *PartnerControl {
	return &PartnerControl{BaseURL: baseURL, HTTP: &http.Client{Timeout: 5 * time.Second}}
}

// Faults returns the faults the simulator injects now.
func (p *PartnerControl) Faults(ctx context.Context) (PartnerFaults, error) {
	return p.do(ctx, http.MethodGet, nil)
}

// SetFaults replaces the faults and returns them as the simulator now has them.
func (p *PartnerControl) SetFaults(ctx context.Context, f PartnerFaults) (PartnerFaults, error) {
	if err := f.Validate(); err != nil {
		return PartnerFaults{}, err
	}
	b, err := json.Marshal(controlFaults{ErrorRate: f.ErrorRate, LatencyMS: f.Latency.Milliseconds(), Outage: f.Outage, Reject: f.Reject})
	if err != nil {
		return PartnerFaults{}, err
	}
	return p.do(ctx, http.MethodPost, b)
}

// do calls /control. The simulator not answering is said plainly, as the person at the
// console can do something about it (start it), unlike an internal error.
func (p *PartnerControl) do(ctx context.Context, method string, body []byte) (PartnerFaults, error) {
	unreachable := func(why string) error {
		return tally.Errorf(tally.EUNPROCESSABLE, "The partner simulator at %s did not answer (%s); nothing was changed.", p.BaseURL, why)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.BaseURL+"/control", bytes.NewReader(body))
	if err != nil {
		return PartnerFaults{}, unreachable("its address is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := p.HTTP.Do(req)
	if err != nil {
		return PartnerFaults{}, unreachable("no connection")
	}
	defer res.Body.Close()
	text, err := io.ReadAll(io.LimitReader(res.Body, 1<<14))
	if err != nil {
		return PartnerFaults{}, unreachable("the answer was cut")
	}
	if res.StatusCode != http.StatusOK {
		return PartnerFaults{}, unreachable(fmt.Sprintf("%d %s", res.StatusCode, bytes.TrimSpace(text)))
	}
	var c controlFaults
	if err := json.Unmarshal(text, &c); err != nil {
		return PartnerFaults{}, unreachable("its answer was not the simulator's")
	}
	return PartnerFaults{ErrorRate: c.ErrorRate, Latency: time.Duration(c.LatencyMS) * time.Millisecond, Outage: c.Outage, Reject: c.Reject}, nil
}

// RecordPartner is the audit record type of a change to the partner; Tally has one partner,
// record 1.
const RecordPartner = audit.RecordPartner

// SetPartnerFaults sets the simulator's faults for actor, audited. The audit row is written
// in a transaction committed only once the simulator has taken the change: a change the
// simulator refused leaves no row. c is the River client of the process (the web server's);
// the transaction is begun on its database.
func SetPartnerFaults(ctx context.Context, c *Client, control *PartnerControl, actor tally.Actor, f PartnerFaults) (PartnerFaults, error) {
	if err := f.Validate(); err != nil {
		return PartnerFaults{}, err
	}
	before, err := control.Faults(ctx)
	if err != nil {
		return PartnerFaults{}, err
	}
	var after PartnerFaults
	err = inClientTx(ctx, c, func(tx pgx.Tx) error {
		if err := audit.Record(ctx, tx, audit.Entry{
			Actor: actor, Action: "partner.faults", RecordType: RecordPartner, RecordID: 1,
			Detail: map[string]any{"before": faultsDetail(before), "after": faultsDetail(f)},
		}); err != nil {
			return err
		}
		after, err = control.SetFaults(ctx, f)
		return err
	})
	return after, err
}

func faultsDetail(f PartnerFaults) controlFaults {
	return controlFaults{ErrorRate: f.ErrorRate, LatencyMS: f.Latency.Milliseconds(), Outage: f.Outage, Reject: f.Reject}
}

// String says what the faults do, for a flash: "outage", "30% errors, 200 ms latency", "none".
func (f PartnerFaults) String() string {
	var parts []string
	if f.Outage {
		parts = append(parts, "outage (every call 503)")
	}
	if f.Reject {
		parts = append(parts, "refusing every call (422)")
	}
	if f.ErrorRate > 0 {
		parts = append(parts, strconv.FormatFloat(math.Round(f.ErrorRate*1000)/10, 'f', -1, 64)+"% errors")
	}
	if f.Latency > 0 {
		parts = append(parts, fmt.Sprintf("%d ms latency", f.Latency.Milliseconds()))
	}
	if len(parts) == 0 {
		return "none: the partner answers every call"
	}
	return strings.Join(parts, ", ")
}
