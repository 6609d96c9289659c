package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tally"
	"tally/internal/fixture"
	"tally/internal/testdb"
	"tally/jobs"
)

// The deployment of docker-compose.yml, as processes: one `tally web` and two `tally worker`
// on one database. Staff act through the web process over HTTP, several at once and racing
// each other on the same reservations; every action that committed has its one job, every
// job ran once, in one of the two workers, and the partner paid each settled reservation once.
func TestScaleOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	// Each partner call takes 50 ms: a burst of jobs fills one worker's slots, and the other
	// worker takes the rest.
	sim := startPartner(t, "-latency", "50ms")
	// Each worker serves /metrics and /healthz on a port of its own, as each container does.
	startWorker(t, pool, sim, "TALLY_METRICS_ADDR=127.0.0.1:0")
	startWorker(t, pool, sim, "TALLY_METRICS_ADDR=127.0.0.1:0")
	web := start(t, []string{"DATABASE_URL=" + pool.Config().ConnString(), "TALLY_PARTNER_URL=" + sim.url},
		"web", "-addr", "127.0.0.1:0")
	base := web.waitOutput(t, regexp.MustCompile(`Tally is running at (\S+)`), 60*time.Second)

	const staffCount, reservationCount = 4, 48
	var staff []*console
	for i := range staffCount {
		email := fmt.Sprintf("staff%d@example.com", i)
		fixture.User(t, pool, email, tally.RoleStaff)
		staff = append(staff, signIn(t, base, email))
	}
	slot := fixture.Slot(t, pool, reservationCount, 2500)
	customer := fixture.Customer(t, pool)

	// Reservations, each member of staff making their share at once.
	ids := make([]int64, reservationCount)
	var wg sync.WaitGroup
	for s, c := range staff {
		wg.Go(func() {
			for i := s; i < reservationCount; i += staffCount {
				ids[i] = c.reserve(t, slot.ID, customer.ID, fmt.Sprintf("scaleout-reserve-%d", i))
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Then each reservation's story, four at a time. a and b are two members of staff on the
	// same reservation: their races have one winner, and the loser gets a 409.
	work := make(chan int)
	for range staffCount {
		wg.Go(func() {
			for i := range work {
				id := ids[i]
				a, b := staff[i%staffCount], staff[(i+1)%staffCount]
				key := func(action string) string { return fmt.Sprintf("scaleout-%s-%d", action, id) }
				switch i % 4 {
				case 0: // approved, then settled by two people at once
					a.act(t, id, "approve", key("approve"), 200)
					race(func() { a.act(t, id, "settle", key("settle-a"), 200, 409) },
						func() { b.act(t, id, "settle", key("settle-b"), 200, 409) })
				case 1: // approved, then cancelled
					a.act(t, id, "approve", key("approve"), 200)
					a.act(t, id, "cancel", key("cancel"), 200)
				case 2: // rejected and approved at once, then cancelled if it was approved
					race(func() { a.act(t, id, "reject", key("reject"), 200, 409) },
						func() { b.act(t, id, "approve", key("approve"), 200, 409) })
					a.act(t, id, "cancel", key("cancel"), 200, 409)
				case 3: // approved, then settled with a double click: one key sent twice at once
					a.act(t, id, "approve", key("approve"), 200)
					// The second is a replay (200) or finds the first still running (409).
					race(func() { a.act(t, id, "settle", key("settle"), 200, 409) },
						func() { a.act(t, id, "settle", key("settle"), 200, 409) })
				}
			}
		})
	}
	for i := range reservationCount {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	waitUntil(t, 45*time.Second, "every job finished", func() (bool, string) {
		var unfinished int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE finalized_at IS NULL`).Scan(&unfinished); err != nil {
			t.Fatal(err)
		}
		return unfinished == 0, fmt.Sprintf("%d jobs unfinished", unfinished)
	})

	// What committed, from the audit log: each action with its key, and the job it asks for.
	type effect struct {
		kind          string // the job's
		reservationID int64
		event         string // a notice's
	}
	want := map[effect]int{}
	committedKeys := map[string]int{}
	settled := map[int64]bool{}
	rows, err := pool.Query(ctx, `SELECT record_id, action, actor || ' ' || idempotency_key FROM audit_events
		WHERE record_type = 'reservation' AND action IN ('reserve', 'approve', 'reject', 'cancel', 'settle')`)
	if err != nil {
		t.Fatal(err)
	}
	notices := map[string]string{"approve": jobs.EventApproved, "reject": jobs.EventRejected, "cancel": jobs.EventCancelled}
	for rows.Next() {
		var id int64
		var action, key string
		if err := rows.Scan(&id, &action, &key); err != nil {
			t.Fatal(err)
		}
		committedKeys[key]++
		switch action {
		case "reserve": // no job
		case "settle":
			want[effect{kind: "partner_payout", reservationID: id}]++
			settled[id] = true
		default:
			want[effect{kind: "notify_customer", reservationID: id, event: notices[action]}]++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	// What the web process said it did: each key that got a 200 committed once, and no other.
	answered, refusals := map[string]bool{}, 0
	for _, c := range staff {
		refusals += c.refusals
		for key := range c.succeeded() {
			answered[key] = true
			if committedKeys[key] != 1 {
				t.Errorf("%s: answered 200, committed %d times; want once", key, committedKeys[key])
			}
		}
	}
	for key := range committedKeys {
		if !answered[key] {
			t.Errorf("%s committed, but no request with it was answered 200", key)
		}
	}
	// Cases 0 and 3 settle; case 2 is decided by its race.
	if len(settled) != reservationCount/2 {
		t.Errorf("%d reservations settled; want %d", len(settled), reservationCount/2)
	}

	// Every job: the one its action asked for, completed at its first attempt, by one worker.
	rows, err = pool.Query(ctx, `SELECT kind, state, attempt, attempted_by,
		coalesce((args->>'reservation_id')::bigint, 0), coalesce(args->>'event', '') FROM river_job ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[effect]int{}
	byWorker := map[string]int{}
	for rows.Next() {
		var kind, state, event string
		var attempt int
		var by []string
		var id int64
		if err := rows.Scan(&kind, &state, &attempt, &by, &id, &event); err != nil {
			t.Fatal(err)
		}
		if state != "completed" || attempt != 1 || len(by) != 1 {
			t.Errorf("a %s job (reservation %d) is %s after %d attempts by %v; want completed at its first attempt",
				kind, id, state, attempt, by)
		}
		if len(by) > 0 {
			byWorker[by[0]]++
		}
		if kind == "notify_customer" || kind == "partner_payout" {
			got[effect{kind: kind, reservationID: id, event: event}]++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for e, n := range want {
		if got[e] != n || n != 1 {
			t.Errorf("%s for reservation %d %s: %d jobs for %d committed actions; want one each", e.kind, e.reservationID, e.event, got[e], n)
		}
	}
	for e, n := range got {
		if want[e] == 0 {
			t.Errorf("%d %s jobs for reservation %d %s, which no committed action asked for", n, e.kind, e.reservationID, e.event)
		}
	}
	if len(byWorker) != 2 {
		t.Errorf("jobs per worker: %v; want both workers at work", byWorker)
	}
	t.Logf("%d actions committed, %d refused as conflicts; %d partner jobs, all jobs per worker: %v",
		len(committedKeys), refusals, len(got), byWorker)

	// The partner's side: one payout per settled reservation, under the reservation's key, and
	// one notice per event, each asked for once.
	paid := map[int64]bool{}
	for _, p := range sim.payouts(t) {
		key := jobs.PartnerPayoutArgs{ReservationID: p.ReservationID}.IdempotencyKey()
		if !settled[p.ReservationID] || paid[p.ReservationID] || p.Key != key || p.Requests != 1 {
			t.Errorf("payout %+v; want one per settled reservation, asked for once", p)
		}
		paid[p.ReservationID] = true
	}
	if len(paid) != len(settled) {
		t.Errorf("%d payouts for %d settled reservations", len(paid), len(settled))
	}
	delivered := 0
	for _, n := range sim.notices(t) {
		if want[effect{kind: "notify_customer", reservationID: n.ReservationID, event: n.Event}] != 1 || n.Requests != 1 {
			t.Errorf("notice %+v; want one per committed action, asked for once", n)
		}
		delivered++
	}
	if wantNotices := len(want) - len(settled); delivered != wantNotices {
		t.Errorf("%d notices delivered; want %d", delivered, wantNotices)
	}
}

// race runs both at once and waits for them.
func race(a, b func()) {
	var wg sync.WaitGroup
	wg.Go(a)
	wg.Go(b)
	wg.Wait()
}

// console is one member of staff signed in to a web process, as a browser is: a cookie jar
// and the CSRF token of the session. Its methods may be called from many goroutines; they
// report with t.Errorf, never t.Fatal.
type console struct {
	base  string
	email string
	http  *http.Client
	csrf  string

	mu       sync.Mutex
	ok       map[string]bool // the keys of the actions answered 200, as "email key"
	refusals int             // actions answered 409
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signIn signs email in with the fixture password.
func signIn(t *testing.T, base, email string) *console {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &console{base: base, email: email, ok: map[string]bool{}, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
	c.csrf = c.token(t, "/login")
	a := c.send(t, "/login", url.Values{"email": {email}, "password": {fixture.Password}}, false)
	if a.status != http.StatusSeeOther || a.location != "/" {
		t.Fatalf("sign in as %s: %s to %q", email, a.text, a.location)
	}
	c.csrf = c.token(t, "/") // the session was renewed at sign-in
	return c
}

// token reads the CSRF token from a page.
func (c *console) token(t *testing.T, path string) string {
	t.Helper()
	res, err := c.http.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := csrfInput.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %s, no CSRF token", path, res.Status)
	}
	return string(m[1])
}

// answer is what a POST got back.
type answer struct {
	status   int
	text     string // the status line, or the error
	location string
	body     string
}

// send posts a form as a page does, or as htmx does (token in a header).
func (c *console) send(t *testing.T, path string, form url.Values, htmx bool) answer {
	if !htmx {
		form.Set("_csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if htmx {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Errorf("POST %s as %s: %v", path, c.email, err)
		return answer{text: err.Error()}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, text: res.Status, location: res.Header.Get("Location"), body: string(body)}
}

// reserve takes a seat through the new-reservation form and returns the reservation's id.
func (c *console) reserve(t *testing.T, slotID, customerID int64, key string) int64 {
	a := c.send(t, "/reservations", url.Values{
		"slot_id": {fmt.Sprint(slotID)}, "customer_id": {fmt.Sprint(customerID)}, "seats": {"1"}, "idempotency_key": {key},
	}, false)
	var id int64
	if _, err := fmt.Sscanf(a.location, "/reservations/%d", &id); a.status != http.StatusSeeOther || err != nil {
		t.Errorf("reserve as %s: %s to %q; want a redirect to the reservation\n%s", c.email, a.text, a.location, a.body)
		return 0
	}
	c.succeed(key)
	return id
}

// act takes an action from the reservations list's row (htmx), and checks that the answer
// is one of statuses.
func (c *console) act(t *testing.T, id int64, action, key string, statuses ...int) {
	a := c.send(t, fmt.Sprintf("/reservations/%d/%s", id, action), url.Values{"view": {"row"}, "idempotency_key": {key}}, true)
	switch {
	case !slices.Contains(statuses, a.status):
		t.Errorf("%s reservation %d as %s: %s; want one of %v\n%s", action, id, c.email, a.text, statuses, a.body)
	case a.status == http.StatusOK:
		c.succeed(key)
	default:
		c.mu.Lock()
		c.refusals++
		c.mu.Unlock()
	}
}

func (c *console) succeed(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok[c.email+" "+key] = true
}

// succeeded returns the keys of the actions answered 200, as "email key".
func (c *console) succeeded() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok
}
