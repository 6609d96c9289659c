package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"tally/internal/fixture"
)

// TestHardening holds one test per finding of the adversarial pass (issue "Hardening"), each
// over real HTTP, each failing before its fix.
func TestHardening(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 100)

	t.Run("a multi-byte idempotency key is a 400, not a 500", func(t *testing.T) {
		form := url.Values{"slot_id": {fmt.Sprint(s.slot.ID)}, "customer_id": {fmt.Sprint(s.customer.ID)}, "seats": {"1"},
			"idempotency_key": {"éééé"}}
		if p := s.b.post("/reservations", form); p.Status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", p.Status)
		}
		form.Set("idempotency_key", strings.Repeat("é", 150)) // 150 characters, 300 bytes
		if p := s.b.post("/reservations", form); p.Status != http.StatusBadRequest {
			t.Errorf("150 × é: status %d, want 400", p.Status)
		}
	})

	t.Run("an Idempotency-Key header that is not UTF-8 is a 400", func(t *testing.T) {
		id := s.reserve(1)
		for _, key := range []string{"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "caf\xe9-caf\xe9-key"} {
			if p := s.b.raw(http.MethodPost, fmt.Sprintf("/reservations/%d/approve", id), "Idempotency-Key", key); p.Status != http.StatusBadRequest {
				t.Errorf("key %q: status %d, want 400", key, p.Status)
			}
		}
		if got := s.count("SELECT count(*) FROM reservations WHERE status = 'approved'"); got != 0 {
			t.Errorf("%d approved, want 0", got)
		}
	})

	t.Run("Tally mints its own request ids", func(t *testing.T) {
		id := s.reserve(1)
		for _, rid := range []string{"req-\xe9", strings.Repeat("r", 100_000), "forged-request-id"} {
			p := s.b.raw(http.MethodGet, "/reservations", "X-Request-Id", rid)
			if p.Status >= 500 || p.Header.Get("X-Request-Id") == rid {
				t.Errorf("X-Request-Id %.20q: status %d, echoed %v", rid, p.Status, p.Header.Get("X-Request-Id") == rid)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, s.URL+fmt.Sprintf("/reservations/%d/approve", id),
			strings.NewReader(url.Values{"idempotency_key": {"forged-id-key-1"}, "_csrf": {s.b.token()}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Request-Id", "forged-request-id")
		p := s.b.do(req)
		var stored string
		if err := s.Pool.QueryRow(context.Background(), "SELECT request_id FROM audit_events WHERE action = 'approve' AND record_id = $1", id).Scan(&stored); err != nil {
			t.Fatalf("approve: %d, %v", p.Status, err)
		}
		if stored == "forged-request-id" || stored != p.Header.Get("X-Request-Id") {
			t.Errorf("audit request id %q, response's %q", stored, p.Header.Get("X-Request-Id"))
		}
	})

	t.Run("the CSRF token is refused in the query string", func(t *testing.T) {
		id := s.reserve(1)
		req, _ := http.NewRequest(http.MethodPost, s.URL+fmt.Sprintf("/reservations/%d/approve?_csrf=%s", id, url.QueryEscape(s.b.token())),
			strings.NewReader(url.Values{"idempotency_key": {"csrf-in-query-key"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if p := s.b.do(req); p.Status != http.StatusForbidden {
			t.Errorf("status %d, want 403", p.Status)
		}
		if got := s.count("SELECT count(*) FROM reservations WHERE id = $1 AND status = 'held'", id); got != 1 {
			t.Error("the reservation changed")
		}
	})

	t.Run("two bulk settles of the same reservations in opposite orders settle each once and say why not the other", func(t *testing.T) {
		var ids []string
		for range 20 {
			id := s.reserve(1)
			if _, err := s.Service.Approve(context.Background(), s.staff, "bulk-approve-"+fixture.Unique(), id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, fmt.Sprint(id))
		}
		desc := slices.Clone(ids)
		slices.Reverse(desc)
		other := s.browser()
		other.signIn("kim@example.com")
		var wg sync.WaitGroup
		pages := make([]page, 2)
		for i, order := range [][]string{ids, desc} {
			b := []*browser{s.b, other}[i]
			wg.Go(func() { pages[i] = b.htmx("/reservations/bulk-settle", url.Values{"id": order}) })
		}
		wg.Wait()
		settled := 0
		for _, p := range pages {
			if p.Status != http.StatusOK {
				t.Fatalf("bulk settle: %d %s", p.Status, p.Body)
			}
			p.Doc.Find(`[data-testid="bulk-item"]`).Each(func(_ int, row *goquery.Selection) {
				text := row.Text()
				switch {
				case strings.Contains(text, "Settled ("):
					settled++
				case strings.Contains(text, "already settled by kim@example.com"):
				default:
					t.Errorf("item says %q", strings.Join(strings.Fields(text), " "))
				}
			})
		}
		if settled != 20 {
			t.Errorf("%d settled between the two, want 20 (each once)", settled)
		}
		if got := s.count("SELECT count(*) FROM reservations WHERE status = 'settled'"); got != 20 {
			t.Errorf("%d settled in the database, want 20", got)
		}
		if got := s.count("SELECT count(DISTINCT reservation_id) FROM ledger_entries"); got != 20 {
			t.Errorf("%d reservations with postings, want 20", got)
		}
	})
}
