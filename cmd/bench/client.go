package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tally/accounts"
)

// transport is shared by every session: keep-alive connections to the one Tally.
var transport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}

// session is one signed-in browser: its cookie and the CSRF token that htmx sends.
type session struct {
	base  string
	email string
	http  *http.Client
	csrf  string
}

// csrfHeaders is where htmx takes the token from: hx-headers on <body>, HTML-escaped.
var csrfHeaders = regexp.MustCompile(`hx-headers="([^"]*)"`)
var csrfToken = regexp.MustCompile(`"X-CSRF-Token":\s*"([^"]+)"`)

// signIn signs email in with the demo password, as the sign-in form does, and reads the
// CSRF token from the page it lands on.
func signIn(ctx context.Context, base, email string) (*session, error) {
	jar, _ := cookiejar.New(nil)
	s := &session{base: base, email: email, http: &http.Client{
		Transport: transport, Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	// The sign-in form is a state-changing request too: its token comes from the form page.
	page, err := s.get(ctx, "/login")
	if err != nil {
		return nil, err
	}
	if err := s.readToken(page); err != nil {
		return nil, fmt.Errorf("sign-in page: %w", err)
	}
	form := url.Values{"email": {email}, "password": {accounts.DemoPassword}, "_csrf": {s.csrf}}
	status, body, err := s.post(ctx, "/login", form, false)
	if err != nil {
		return nil, err
	}
	if status != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in as %s: status %d: %s", email, status, snippet(body))
	}
	page, err = s.get(ctx, "/")
	if err != nil {
		return nil, err
	}
	return s, s.readToken(page)
}

func (s *session) readToken(page string) error {
	m := csrfHeaders.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("no hx-headers on the page: %s", snippet(page))
	}
	t := csrfToken.FindStringSubmatch(html.UnescapeString(m[1]))
	if t == nil {
		return fmt.Errorf("no X-CSRF-Token in hx-headers %q", m[1])
	}
	s.csrf = t[1]
	return nil
}

// get fetches path and fails unless it answers 200.
func (s *session) get(ctx context.Context, path string) (string, error) {
	status, body, err := s.do(ctx, http.MethodGet, path, nil, false)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d: %s", path, status, snippet(body))
	}
	return body, err
}

// post sends a form; htmx: as htmx sends it (HX-Request, the CSRF header).
func (s *session) post(ctx context.Context, path string, form url.Values, htmx bool) (int, string, error) {
	return s.do(ctx, http.MethodPost, path, form, htmx)
}

func (s *session) do(ctx context.Context, method, path string, form url.Values, htmx bool) (int, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return 0, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// signInMany signs n sessions of email in, one after the other (each sign-in hashes a
// password with argon2id: at once they would only queue for the CPU).
func signInMany(ctx context.Context, base, email string, n int) ([]*session, error) {
	out := make([]*session, n)
	for i := range out {
		s, err := signIn(ctx, base, email)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// clients are n clients from the sessions: each its own while there are enough, then
// sharing them in turn.
func clients(sessions []*session, n int) []*session {
	out := make([]*session, n)
	for i := range out {
		out[i] = sessions[i%len(sessions)]
	}
	return out
}

// newKey is an idempotency key as the forms mint them: 16 random bytes in hex.
func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// loadResult is what a load loop measured.
type loadResult struct {
	ok, failed int
	latencies  []time.Duration // of the requests that succeeded
	took       time.Duration
	firstErr   error
}

func (r loadResult) perSecond() float64 { return float64(r.ok) / r.took.Seconds() }

// load runs one request function on each session concurrently until total requests were
// sent or, when limit is not zero, limit has passed: no request starts after it, those
// running finish. Each successful request is timed; a failed one stops nothing.
func load(ctx context.Context, sessions []*session, total int, limit time.Duration, req func(ctx context.Context, s *session, i int) error) loadResult {
	var (
		next atomic.Int64
		mu   sync.Mutex
		res  loadResult
		wg   sync.WaitGroup
	)
	start := time.Now()
	for _, s := range sessions {
		wg.Go(func() {
			var lat []time.Duration
			okN, failN := 0, 0
			var firstErr error
			for ctx.Err() == nil && (limit == 0 || time.Since(start) < limit) {
				i := int(next.Add(1)) - 1
				if i >= total {
					break
				}
				t := time.Now()
				if err := req(ctx, s, i); err != nil {
					failN++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				okN++
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			res.ok += okN
			res.failed += failN
			res.latencies = append(res.latencies, lat...)
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.took = time.Since(start)
	return res
}
