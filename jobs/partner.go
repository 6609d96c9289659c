package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Partner calls the partner API over HTTP. Every call carries an idempotency key, so a job
// that runs twice has one effect. The workers' Partner calls through a circuit breaker.
type Partner struct {
	BaseURL string
	HTTP    *http.Client
	circuit *circuit
}

// NewPartner returns a Partner for baseURL whose calls time out after timeout, made by up to
// conns workers at once. Each worker keeps its connection to the partner open between calls:
// Go's default transport keeps two per host, so that most calls of a busy queue would open
// (and close) a connection of their own, which costs more than the call.
func NewPartner(baseURL string, timeout time.Duration, conns int) *Partner {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(conns, 2)
	t.MaxIdleConnsPerHost = max(conns, 2)
	return &Partner{BaseURL: baseURL, HTTP: &http.Client{Timeout: timeout, Transport: t}}
}

// PermanentError is a refusal by the partner (4xx): trying again would get the same answer.
type PermanentError struct {
	Status int
	Body   string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("partner refused the request: %d %s", e.Status, e.Body)
}

// post sends body to path. A 2xx is success; a 4xx is a *PermanentError; anything else
// (5xx, timeout, connection refused) is an error worth retrying. While the circuit breaker
// is open, nothing is sent and the error is a *CircuitOpenError.
func (p *Partner) post(ctx context.Context, path, idempotencyKey string, body any) error {
	if p.circuit == nil {
		return p.send(ctx, path, idempotencyKey, body)
	}
	return p.circuit.call(ctx, func() error { return p.send(ctx, path, idempotencyKey, body) })
}

func (p *Partner) send(ctx context.Context, path, idempotencyKey string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.BaseURL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idempotencyKey)
	res, err := p.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("partner %s: %w", path, err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusRequestTimeout:
		return &PermanentError{Status: res.StatusCode, Body: string(bytes.TrimSpace(text))}
	}
	return fmt.Errorf("partner %s: %d %s", path, res.StatusCode, bytes.TrimSpace(text))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
