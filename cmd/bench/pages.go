package main

import (
	"context"
	"fmt"
	"net/url"
)

// page is one page the bench reads, as the role that uses it.
type page struct {
	name, path string
	as         []*session
}

// pages lists every list and console page, with real subjects from the data.
func (b *bench) pages(ctx context.Context) ([]page, error) {
	var resource, reservation, job int64
	var customer string
	if err := b.st.pool.QueryRow(ctx, stmt("PageSubjects")).Scan(&resource, &reservation, &job, &customer); err != nil {
		return nil, fmt.Errorf("page subjects: %w", err)
	}
	staff, ops, eng := clients(b.staff, 8), clients(b.operators, 8), clients(b.engineers, 8)
	ps := []page{{"reservations", "/reservations", staff}}
	for _, s := range []string{"held", "approved", "settled", "rejected", "cancelled", "expired"} {
		ps = append(ps, page{"reservations, status " + s, "/reservations?status=" + s, staff})
	}
	for _, o := range []string{"id&dir=asc", "slot", "amount", "status", "customer"} {
		ps = append(ps, page{"reservations, sorted by " + o, "/reservations?o=" + o, staff})
	}
	ps = append(ps,
		page{"reservations, search matching", "/reservations?q=" + url.QueryEscape(customer), staff},
		page{"reservations, search matching nothing", "/reservations?q=zzqxv-nobody", staff},
		page{"reservations, by resource", fmt.Sprintf("/reservations?resource=%d", resource), staff},
		page{"reservation detail", fmt.Sprintf("/reservations/%d", reservation), staff},
		page{"dashboard", "/", staff},
		page{"jobs overview", "/jobs", ops},
	)
	for _, st := range []string{"available", "running", "retryable", "scheduled", "pending", "completed", "cancelled", "discarded"} {
		ps = append(ps, page{"jobs, " + st, "/jobs?state=" + st, ops})
	}
	ps = append(ps,
		page{"jobs, failure groups", "/jobs/failures", ops},
		page{"job detail", fmt.Sprintf("/jobs/%d", job), ops},
		page{"query-analysis catalogue", "/queries", eng},
	)
	return ps, nil
}

// pageRows measures each page's latency at concurrency 1 and 8: a warm-up, then as many
// requests as the settings allow within the page budget.
func (b *bench) pageRows(ctx context.Context) []Row {
	ps, err := b.pages(ctx)
	if err != nil {
		return []Row{{Group: "pages", Figure: "pages", Verdict: errored, Error: err.Error()}}
	}
	var rows []Row
	for _, p := range ps {
		get := func(ctx context.Context, s *session, _ int) error {
			_, err := s.get(ctx, p.path)
			return err
		}
		// Warm-up: the first request of a page plans its queries and fills the caches.
		warm := load(ctx, p.as[:1], 1, 0, get)
		if warm.firstErr != nil {
			rows = append(rows, Row{Group: "pages", Figure: "page " + p.name, Verdict: errored,
				Error: fmt.Sprintf("GET %s: %v", p.path, warm.firstErr)})
			continue
		}
		for _, c := range []struct {
			n, requests int
			target      float64
		}{{1, b.set.PageRequests1, 50}, {8, b.set.PageRequests8, 150}} {
			res := load(ctx, p.as[:c.n], c.requests, b.set.PageBudget, get)
			figure := fmt.Sprintf("page %s, c=%d", p.name, c.n)
			if res.ok == 0 {
				e := "no request finished within the budget"
				if res.firstErr != nil {
					e = res.firstErr.Error()
				}
				rows = append(rows, Row{Group: "pages", Figure: figure, Verdict: errored, Error: e})
				continue
			}
			lat := ms(res.latencies)
			p50, p95 := median(lat), quantile(lat, 0.95)
			r := Row{Group: "pages", Figure: figure, Value: fmt.Sprintf("p50 %s / p95 %s ms", fmtMS(p50), fmtMS(p95)),
				Target: fmt.Sprintf("p95 < %.0f ms", c.target), Verdict: verdict(p95 < c.target),
				Data: map[string]float64{"p50_ms": p50, "p95_ms": p95, "requests": float64(res.ok)}}
			if res.ok < 5 {
				r.Note = fmt.Sprintf("%s: only %d requests in %s", p.path, res.ok, b.set.PageBudget)
			}
			if res.failed > 0 {
				r.Note += fmt.Sprintf(" %d failed: %v", res.failed, res.firstErr)
			}
			rows = append(rows, r)
		}
	}
	return rows
}
