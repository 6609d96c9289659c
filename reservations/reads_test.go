package reservations_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"tally/internal/fixture"
	"tally/queries"
	"tally/reservations"
)

// tableCounts counts the reservations per status the slow way, optionally of one resource.
func (e *env) tableCounts(resourceID *int64) map[string]int64 {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT r.status, count(*) FROM reservations r JOIN slots s ON s.id = r.slot_id
		WHERE $1::bigint IS NULL OR s.resource_id = $1 GROUP BY r.status`, resourceID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			e.t.Fatal(err)
		}
		out[st] = n
	}
	return out
}

// checkCounts compares the list's tabs with the table itself: exact, per status and in all.
func (e *env) checkCounts(what string, f reservations.Filter) {
	e.t.Helper()
	got, err := e.svc.CountByStatus(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	want := e.tableCounts(f.ResourceID)
	var total int64
	for _, st := range reservations.Statuses {
		c := got.ByStatus[st]
		if !c.Exact() || c.N != want[st] {
			e.t.Errorf("%s: %s counted %+v, the table has %d", what, st, c, want[st])
		}
		total += want[st]
	}
	if !got.Total.Exact() || got.Total.N != total {
		e.t.Errorf("%s: total %+v, the table has %d", what, got.Total, total)
	}
}

// TestCountsFollowEveryAction: the unfiltered tabs and a resource's tabs are kept, not
// counted; they stay exact through every action, approvals made concurrently, a bulk settle
// and expiries, across the folds of the kept rows (every few hundred changes).
func TestCountsFollowEveryAction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 500)
	other := fixture.Slot(t, e.pool, 500, 1000)
	e.checkCounts("empty", reservations.Filter{})

	var ids []int64
	for i := 0; i < 300; i++ { // past a fold
		slot := e.slot.ID
		if i%4 == 0 {
			slot = other.ID
		}
		out, err := e.svc.Reserve(ctx, e.staff, e.key(), reservations.NewReservation{SlotID: slot, CustomerID: e.customer.ID, Seats: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.Reservation.ID)
	}
	e.checkCounts("after reserving", reservations.Filter{})

	// A hundred approvals at once: none waits on another for a count, none is lost.
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = e.key()
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	for i, id := range ids[:100] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.Approve(ctx, e.staff, keys[i], id); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	e.checkCounts("after concurrent approvals", reservations.Filter{})

	for _, id := range ids[100:120] {
		if _, err := e.svc.Reject(ctx, e.staff, e.key(), id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range append(ids[120:130], ids[:10]...) {
		if _, err := e.svc.Cancel(ctx, e.staff, e.key(), id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.SettleMany(ctx, e.staff, ids[10:60]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, "UPDATE reservations SET hold_expires_at = now() - interval '1 minute' WHERE id = ANY($1)", ids[130:160]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ExpireHolds(ctx, 100); err != nil {
		t.Fatal(err)
	}
	e.checkCounts("after every kind of action", reservations.Filter{})
	e.checkCounts("of one resource", reservations.Filter{ResourceID: &other.ResourceID})
	held := reservations.StatusHeld
	e.checkCounts("with a status chosen (the tabs count every status)", reservations.Filter{Status: &held, ResourceID: &e.slot.ResourceID})

	// A filter the kept counts do not answer is counted: the customer's, from its index.
	if got, err := e.svc.CountByStatus(ctx, reservations.Filter{Customer: &e.customer.ID}); err != nil || !got.Total.Exact() || got.Total.N != 300 ||
		got.ByStatus[reservations.StatusSettled].N != 50 {
		t.Errorf("the customer's counts: %+v, %v (want 300, 50 settled)", got, err)
	}

	// A rebuild (what seeding calls after loading without the triggers) agrees.
	if _, err := e.pool.Exec(ctx, "SELECT reservation_counts_rebuild()"); err != nil {
		t.Fatal(err)
	}
	e.checkCounts("after a rebuild", reservations.Filter{})
}

// searchEnv has customers with names and emails to search, each with reservations.
func searchEnv(t *testing.T) (*env, map[string]int64) {
	t.Helper()
	e := newEnv(t, 500)
	q := queries.New(e.pool)
	customers := map[string]int64{}
	for i, name := range []string{"Annika Virtanen", "Bruno Virtanen", "Chloe Weber"} {
		c, err := q.CustomerInsert(context.Background(), queries.CustomerInsertParams{Name: name, Email: fmt.Sprintf("c%d.%s@example.com", i, fixture.Unique())})
		if err != nil {
			t.Fatal(err)
		}
		customers[name] = c.ID
		for j := 0; j < 3; j++ {
			if _, err := e.svc.Reserve(context.Background(), e.staff, e.key(), reservations.NewReservation{SlotID: e.slot.ID, CustomerID: c.ID, Seats: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e, customers
}

// TestSearchFindsPartOfANameOrEmail: the search finds customers by any part of their name
// or email, in any case, long enough for the trigram index ("irtan") or not ("we"); counts
// follow; a search that matches nobody finds nothing and counts zero.
func TestSearchFindsPartOfANameOrEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, customers := searchEnv(t)
	for _, c := range []struct {
		search string
		want   int
	}{
		{"irtan", 6},       // through the trigram index
		{"VIRTANEN", 6},    // any case
		{"we", 3},          // too short for a trigram: read without the index
		{"Chloe Weber", 3}, // the whole name
		{"c1.", 3},         // part of an email
		{"nobody-like-this", 0},
	} {
		search := c.search
		f := reservations.Filter{Search: &search}
		page, counts, err := e.svc.Browse(ctx, f, reservations.PageRequest{Order: reservations.Newest, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Rows) != c.want {
			t.Errorf("search %q: %d rows, want %d", c.search, len(page.Rows), c.want)
		}
		if !counts.Total.Exact() || counts.Total.N != int64(c.want) || counts.ByStatus[reservations.StatusHeld].N != int64(c.want) {
			t.Errorf("search %q: counted %+v, want %d held", c.search, counts, c.want)
		}
		for _, r := range page.Rows {
			if r.Reservation.CustomerID == customers["Chloe Weber"] && c.want == 6 {
				t.Errorf("search %q found Chloe Weber's reservation", c.search)
			}
		}
	}
	// Sorted by customer, paged: the same rows, in the sort's order.
	search := "virtanen"
	first, err := e.svc.List(ctx, reservations.Filter{Search: &search}, reservations.PageRequest{Order: reservations.Order{Key: reservations.SortCustomer}, Limit: 4})
	if err != nil || len(first.Rows) != 4 || !first.HasNext || first.Rows[0].Customer != "Annika Virtanen" {
		t.Fatalf("first page by customer: %+v, %v", first, err)
	}
	next, err := e.svc.List(ctx, reservations.Filter{Search: &search}, reservations.PageRequest{Order: reservations.Order{Key: reservations.SortCustomer},
		After: first.Rows[3].Cursor(reservations.SortCustomer), Limit: 4})
	if err != nil || len(next.Rows) != 2 || next.HasNext || next.Rows[1].Customer != "Bruno Virtanen" {
		t.Errorf("second page by customer: %+v, %v", next, err)
	}
}

// TestSearchMatchedAsText: a search that matches too many customers to pass by id is
// matched in the query itself; the list and the counts find the same reservations as the
// lookup by id would.
func TestSearchMatchedAsText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _ := searchEnv(t)
	q := queries.New(e.pool)
	search := "virtanen"
	rows, err := q.ReservationListNewest(ctx, queries.ReservationListNewestParams{Search: &search, RowLimit: 50})
	if err != nil || len(rows) != 6 {
		t.Errorf("list by text: %d rows, %v", len(rows), err)
	}
	counts, err := q.ReservationCountByStatus(ctx, queries.ReservationCountByStatusParams{Search: &search, Cap: 100})
	if err != nil || len(counts) != 1 || counts[0].Reservations != 6 {
		t.Errorf("count by text: %+v, %v", counts, err)
	}
}

// TestSearchByNumber: a search for a number finds that reservation as well as the customers
// whose email holds it; "#n" (Filter.ID) finds that reservation alone.
func TestSearchByNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _ := searchEnv(t)
	r := e.reserve(1)
	number := fmt.Sprint(r.ID)
	page, counts, err := e.svc.Browse(ctx, reservations.Filter{Search: &number}, reservations.PageRequest{Order: reservations.Newest, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range page.Rows {
		found = found || row.Reservation.ID == r.ID
	}
	if !found || counts.Total.N < 1 {
		t.Errorf("search %q: rows %d (found: %v), counted %+v", number, len(page.Rows), found, counts.Total)
	}
	page, counts, err = e.svc.Browse(ctx, reservations.Filter{ID: &r.ID}, reservations.PageRequest{Order: reservations.Newest, Limit: 50})
	if err != nil || len(page.Rows) != 1 || page.Rows[0].Reservation.ID != r.ID || counts.Total.N != 1 {
		t.Errorf("#%d: %+v, %+v, %v", r.ID, page.Rows, counts.Total, err)
	}
}

// TestPayoutFilterWithoutProblems: with no failing payout, the payout filter shows nothing
// and counts zero, without reading the reservations.
func TestPayoutFilterWithoutProblems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, 10)
	e.reserve(1)
	page, counts, err := e.svc.Browse(ctx, reservations.Filter{PayoutProblem: true}, reservations.PageRequest{Order: reservations.Newest, Limit: 50})
	if err != nil || len(page.Rows) != 0 || !counts.Total.Exact() || counts.Total.N != 0 {
		t.Errorf("payout filter: %d rows, %+v, %v", len(page.Rows), counts.Total, err)
	}
}
