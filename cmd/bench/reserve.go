package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// errRefused is a reservation refused for want of seats: the expected end of a hot slot.
var errRefused = errors.New("refused: not enough seats")

// reserveRows has many staff reserve seats on one slot at once until it is sold out, then
// checks that nothing was oversold, on that slot and on every slot.
func (b *bench) reserveRows(ctx context.Context) []Row {
	fail := func(figure string, err error) []Row {
		return []Row{{Group: "reserve", Figure: figure, Verdict: errored, Error: err.Error()}}
	}
	figure := fmt.Sprintf("reserve on one hot slot, c=%d", b.set.HotClients)
	var resource, slot int64
	if err := b.st.pool.QueryRow(ctx, stmt("BenchResource"), "Bench hall (hot slot)").Scan(&resource); err != nil {
		return fail(figure, err)
	}
	if err := b.st.pool.QueryRow(ctx, stmt("BenchSlots"), resource, 1, b.set.HotCapacity, 0).Scan(&slot); err != nil {
		return fail(figure, err)
	}
	var customers []int64
	rows, err := b.st.pool.Query(ctx, stmt("Customers"), 200)
	if err != nil {
		return fail(figure, err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fail(figure, err)
		}
		customers = append(customers, id)
	}
	rows.Close()

	var mu sync.Mutex
	var lastOK time.Time
	seatsAsked := 0
	start := time.Now()
	// At most as many requests as seats (each asks 1 to 4): enough to sell out and be
	// refused for a while.
	res := load(ctx, clients(b.staff, b.set.HotClients), b.set.HotCapacity, 60*time.Second, func(ctx context.Context, s *session, i int) error {
		seats := 1 + rand.IntN(4)
		form := url.Values{"slot_id": {fmt.Sprint(slot)}, "customer_id": {fmt.Sprint(customers[i%len(customers)])},
			"seats": {fmt.Sprint(seats)}, "idempotency_key": {newKey()}, "_csrf": {s.csrf}}
		status, body, err := s.post(ctx, "/reservations", form, false)
		switch {
		case err != nil:
			return err
		case status == http.StatusSeeOther:
			mu.Lock()
			lastOK, seatsAsked = time.Now(), seatsAsked+seats
			mu.Unlock()
			return nil
		case status == http.StatusConflict:
			return errRefused
		}
		return fmt.Errorf("reserve: status %d: %s", status, snippet(body))
	})
	refused := 0
	if res.failed > 0 && errors.Is(res.firstErr, errRefused) {
		refused = res.failed // all failures were refusals, or the first error would not be one
	}
	var out []Row
	r := Row{Group: "reserve", Figure: figure, Data: map[string]float64{"reserved": float64(res.ok), "refused": float64(res.failed)}}
	if res.ok == 0 {
		r.Verdict, r.Error = errored, fmt.Sprint(res.firstErr)
	} else {
		tps := float64(res.ok) / lastOK.Sub(start).Seconds()
		lat := ms(res.latencies)
		r.Value = fmt.Sprintf("%.0f reservations/s (p50 %s, p95 %s ms)", tps, fmtMS(median(lat)), fmtMS(quantile(lat, 0.95)))
		r.Verdict = info
		r.Data["per_second"] = tps
		r.Note = fmt.Sprintf("%d reservations took %d seats of %d until sold out; %d requests then refused",
			res.ok, seatsAsked, b.set.HotCapacity, res.failed)
		if res.failed > 0 && refused == 0 {
			r.Note += fmt.Sprintf(" (first failure not a refusal: %v)", res.firstErr)
		}
	}
	out = append(out, r)

	var capacity, reserved, live, count int
	if err := b.st.pool.QueryRow(ctx, stmt("SlotCheck"), slot).Scan(&capacity, &reserved, &live, &count); err != nil {
		return append(out, fail("no oversell, hot slot", err)...)
	}
	good := reserved <= capacity && reserved == live && live == seatsAsked
	c := Row{Group: "reserve", Figure: "no oversell, hot slot", Value: fmt.Sprintf("%d of %d seats taken", reserved, capacity),
		Reference: fmt.Sprintf("live reservations hold %d; %d accepted", live, seatsAsked), Target: "reserved ≤ capacity = sum",
		Verdict: map[bool]string{true: ok, false: failed}[good],
		Data:    map[string]float64{"capacity": float64(capacity), "reserved": float64(reserved), "live_seats": float64(live)}}
	out = append(out, c)

	var over, mismatched, slots int
	if err := b.st.pool.QueryRow(ctx, stmt("AllSlotsCheck")).Scan(&over, &mismatched, &slots); err != nil {
		return append(out, fail("no oversell, every slot", err)...)
	}
	all := Row{Group: "reserve", Figure: "no oversell, every slot", Value: fmt.Sprintf("%d over capacity, %d miscounted", over, mismatched),
		Reference: fmt.Sprintf("of %d slots", slots), Target: "0 and 0", Verdict: map[bool]string{true: ok, false: failed}[over == 0 && mismatched == 0],
		Data: map[string]float64{"over_capacity": float64(over), "miscounted": float64(mismatched), "slots": float64(slots)}}
	return append(out, all)
}
