package partnersim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tally/partnersim"
)

func TestPartnerSim(t *testing.T) {
	t.Parallel()
	sim := partnersim.New(partnersim.Faults{})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	post := func(path, key, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	payout := `{"reservation_id": 7, "amount_cents": 1200, "currency": "EUR"}`

	if got := post("/payouts", "payout-7", payout); got != http.StatusCreated {
		t.Errorf("first payout: %d", got)
	}
	if got := post("/payouts", "payout-7", payout); got != http.StatusOK {
		t.Errorf("same key again: %d, want 200 with the first result", got)
	}
	if p := sim.Payouts(); len(p) != 1 || p[0].Requests != 2 {
		t.Errorf("payouts %+v: want one, asked twice", p)
	}
	if got := post("/payouts", "", payout); got != http.StatusBadRequest {
		t.Errorf("no key: %d", got)
	}
	if got := post("/payouts", "payout-8", `{"reservation_id": 8, "amount_cents": -5, "currency": "EUR"}`); got != http.StatusUnprocessableEntity {
		t.Errorf("negative amount: %d", got)
	}
	if got := post("/control", "", `{"outage": true}`); got != http.StatusOK {
		t.Fatalf("control: %d", got)
	}
	if got := post("/notices", "notice-1", `{"reservation_id": 1, "event": "approved"}`); got != http.StatusServiceUnavailable {
		t.Errorf("during an outage: %d", got)
	}
	if got := post("/control", "", `{"outage": false, "reject": true}`); got != http.StatusOK {
		t.Fatalf("control: %d", got)
	}
	if got := post("/notices", "notice-1", `{"reservation_id": 1, "event": "approved"}`); got != http.StatusUnprocessableEntity {
		t.Errorf("while rejecting: %d", got)
	}
	if got := post("/control", "", `{"error_rate": 2}`); got != http.StatusBadRequest {
		t.Errorf("an error rate of 2: %d", got)
	}
	if len(sim.Notices()) != 0 {
		t.Error("a refused notice was recorded")
	}
}
