// Package partnersim is the partner API Tally's workers call, simulated: it takes notices and
// payouts, remembers idempotency keys (a payout with a known key is answered with the first
// result and never paid twice), and fails on demand — error rate, latency, timeouts, outage,
// refusals — set by flags and at run time through /control.
package partnersim

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Faults are the failures the simulator injects.
type Faults struct {
	// ErrorRate is the share of requests (0..1) answered 503 without doing anything.
	ErrorRate float64 `json:"error_rate"`
	// Latency delays every answer.
	Latency time.Duration `json:"latency"`
	// TimeoutRate is the share of requests that are done but whose answer comes only after
	// Hang: the caller times out, as when a response is lost.
	TimeoutRate float64       `json:"timeout_rate"`
	Hang        time.Duration `json:"hang"`
	// Outage answers every request 503.
	Outage bool `json:"outage"`
	// Reject answers every request 422, a permanent refusal.
	Reject bool `json:"reject"`
}

// Payout is one payout the partner made.
type Payout struct {
	ID            int64     `json:"id"`
	Key           string    `json:"idempotency_key"`
	ReservationID int64     `json:"reservation_id"`
	AmountCents   int64     `json:"amount_cents"`
	Currency      string    `json:"currency"`
	At            time.Time `json:"at"`
	// Requests counts the requests that carried this key: more than one means retries,
	// which were answered without paying again.
	Requests int `json:"requests"`
}

// Notice is one notice the partner delivered.
type Notice struct {
	Key           string    `json:"idempotency_key"`
	ReservationID int64     `json:"reservation_id"`
	Event         string    `json:"event"`
	CustomerEmail string    `json:"customer_email"`
	At            time.Time `json:"at"`
	Requests      int       `json:"requests"`
}

// Sim is the simulated partner.
type Sim struct {
	mu      sync.Mutex
	faults  Faults
	payouts map[string]*Payout
	notices map[string]*Notice
}

// New returns a simulator with the given faults.
func New(f Faults) *Sim {
	if f.Hang == 0 {
		f.Hang = 30 * time.Second
	}
	return &Sim{faults: f, payouts: map[string]*Payout{}, notices: map[string]*Notice{}}
}

// Handler serves the partner API.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /payouts", s.postPayout)
	mux.HandleFunc("GET /payouts", s.listPayouts)
	mux.HandleFunc("POST /notices", s.postNotice)
	mux.HandleFunc("GET /notices", s.listNotices)
	mux.HandleFunc("GET /control", s.getControl)
	mux.HandleFunc("POST /control", s.postControl)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n")) // a failed write means the caller left; nothing to tell it
	})
	return mux
}

// fault applies latency and decides whether to fail before doing anything. It returns
// false when it has answered.
func (s *Sim) fault(w http.ResponseWriter, r *http.Request) (hang time.Duration, ok bool) {
	s.mu.Lock()
	f := s.faults
	s.mu.Unlock()
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-r.Context().Done():
			return 0, false
		}
	}
	switch {
	case f.Outage:
		http.Error(w, "partner outage", http.StatusServiceUnavailable)
		return 0, false
	case f.Reject:
		http.Error(w, "refused: the partner account is closed", http.StatusUnprocessableEntity)
		return 0, false
	case rand.Float64() < f.ErrorRate:
		http.Error(w, "injected error", http.StatusServiceUnavailable)
		return 0, false
	case rand.Float64() < f.TimeoutRate:
		return f.Hang, true
	}
	return 0, true
}

// answer writes v as JSON, after hang (a lost response: the work is done, the caller
// gives up waiting).
func answer(w http.ResponseWriter, r *http.Request, status int, hang time.Duration, v any) {
	if hang > 0 {
		select {
		case <-time.After(hang):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// v is one of our own types, so only the write can fail: the caller left.
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sim) postPayout(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		http.Error(w, "Idempotency-Key header is required", http.StatusBadRequest)
		return
	}
	var in Payout
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.ReservationID <= 0 || in.AmountCents <= 0 || len(in.Currency) != 3 {
		http.Error(w, "a payout needs reservation_id, a positive amount_cents and a currency", http.StatusUnprocessableEntity)
		return
	}
	hang, ok := s.fault(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	p, seen := s.payouts[key]
	if !seen {
		p = &Payout{ID: int64(len(s.payouts) + 1), Key: key, ReservationID: in.ReservationID,
			AmountCents: in.AmountCents, Currency: in.Currency, At: time.Now()}
		s.payouts[key] = p
	}
	p.Requests++
	out := *p
	s.mu.Unlock()
	status := http.StatusCreated
	if seen {
		status = http.StatusOK
	}
	answer(w, r, status, hang, out)
}

func (s *Sim) postNotice(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		http.Error(w, "Idempotency-Key header is required", http.StatusBadRequest)
		return
	}
	var in Notice
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.ReservationID <= 0 || in.Event == "" {
		http.Error(w, "a notice needs reservation_id and event", http.StatusUnprocessableEntity)
		return
	}
	hang, ok := s.fault(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	n, seen := s.notices[key]
	if !seen {
		in.Key, in.At = key, time.Now()
		n = &in
		s.notices[key] = n
	}
	n.Requests++
	out := *n
	s.mu.Unlock()
	answer(w, r, http.StatusAccepted, hang, out)
}

// Payouts returns every payout made, oldest first.
func (s *Sim) Payouts() []Payout {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Payout, 0, len(s.payouts))
	for _, p := range s.payouts {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Notices returns every notice delivered, oldest first.
func (s *Sim) Notices() []Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Notice, 0, len(s.notices))
	for _, n := range s.notices {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func (s *Sim) listPayouts(w http.ResponseWriter, r *http.Request) {
	answer(w, r, http.StatusOK, 0, map[string]any{"payouts": s.Payouts()})
}

func (s *Sim) listNotices(w http.ResponseWriter, r *http.Request) {
	answer(w, r, http.StatusOK, 0, map[string]any{"notices": s.Notices()})
}

// Faults returns the injected faults.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetFaults replaces the injected faults.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Hang == 0 {
		f.Hang = s.faults.Hang
	}
	s.faults = f
}

// control is the JSON of /control: durations in milliseconds.
type control struct {
	ErrorRate   float64 `json:"error_rate"`
	LatencyMS   int64   `json:"latency_ms"`
	TimeoutRate float64 `json:"timeout_rate"`
	HangMS      int64   `json:"hang_ms"`
	Outage      bool    `json:"outage"`
	Reject      bool    `json:"reject"`
}

func (s *Sim) getControl(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.faults
	s.mu.Unlock()
	answer(w, r, http.StatusOK, 0, control{f.ErrorRate, f.Latency.Milliseconds(), f.TimeoutRate, f.Hang.Milliseconds(), f.Outage, f.Reject})
}

// postControl sets the faults: a JSON body with any of the control fields; those left out
// keep their value.
func (s *Sim) postControl(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.faults
	c := control{f.ErrorRate, f.Latency.Milliseconds(), f.TimeoutRate, f.Hang.Milliseconds(), f.Outage, f.Reject}
	s.mu.Unlock()
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&c); err != nil ||
		c.ErrorRate < 0 || c.ErrorRate > 1 || c.TimeoutRate < 0 || c.TimeoutRate > 1 || c.LatencyMS < 0 || c.HangMS < 0 {
		http.Error(w, "want JSON: error_rate and timeout_rate in 0..1, latency_ms and hang_ms >= 0, outage and reject true/false", http.StatusBadRequest)
		return
	}
	s.SetFaults(Faults{ErrorRate: c.ErrorRate, Latency: time.Duration(c.LatencyMS) * time.Millisecond,
		TimeoutRate: c.TimeoutRate, Hang: time.Duration(c.HangMS) * time.Millisecond, Outage: c.Outage, Reject: c.Reject})
	s.getControl(w, r)
}
