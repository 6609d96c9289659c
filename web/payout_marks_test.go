package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tally/reservations"
)

// TestPayoutMarks: a reservation whose payout was cancelled carries a mark in the list and on
// its page, and the list's payout filter keeps exactly the reservations with such a mark.
func TestPayoutMarks(t *testing.T) {
	t.Parallel()
	s := newStaffApp(t, 10)
	ctx := context.Background()
	settle := func() int64 {
		id := s.reserve(1)
		for _, act := range []func(context.Context, reservations.Actor, string, int64) (reservations.Outcome, error){s.Service.Approve, s.Service.Settle} {
			if _, err := act(ctx, s.staff, fmt.Sprintf("mark-%d-%p", id, act), id); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	refused, fine := settle(), settle()
	var job int64
	if err := s.Pool.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'partner_payout' AND (args->>'reservation_id')::bigint = $1`, refused).Scan(&job); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Jobs.JobCancel(ctx, job); err != nil { // as a partner's refusal leaves it
		t.Fatal(err)
	}

	p := s.b.get("/reservations?payout=problem")
	if p.Status != http.StatusOK {
		t.Fatalf("filtered list: %d", p.Status)
	}
	rows := p.Doc.Find(`[data-testid="reservation-row"]`)
	if rows.Length() != 1 || !strings.Contains(rows.First().AttrOr("id", ""), fmt.Sprint(refused)) {
		t.Errorf("payout=problem lists %d rows, want only #%d", rows.Length(), refused)
	}
	if mark := rows.First().Find(`[data-testid="payout-mark"]`); mark.AttrOr("data-problem", "") == "" {
		t.Error("the row has no payout mark")
	}
	all := s.b.get("/reservations")
	if n := all.Doc.Find(fmt.Sprintf(`#reservation-%d [data-testid="payout-mark"]`, fine)).Length(); n != 0 {
		t.Errorf("#%d, paid out fine, is marked", fine)
	}
	page := s.b.get(fmt.Sprintf("/reservations/%d", refused))
	if page.Doc.Find(`h1 [data-testid="payout-mark"]`).Length() != 1 {
		t.Error("the reservation's page has no payout mark")
	}
	if p := s.b.get("/reservations?payout=maybe"); p.Status != http.StatusBadRequest {
		t.Errorf("payout=maybe: %d, want 400", p.Status)
	}
}
