package views

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

func statusTitle(status int) string {
	switch status {
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusNotFound:
		return "Not found"
	case http.StatusTooManyRequests:
		return "Slow down"
	case http.StatusInternalServerError:
		return "Something went wrong"
	}
	return http.StatusText(status)
}

func itoa[T ~int | ~int32 | ~int64](n T) string { return fmt.Sprint(n) }

// NewKey mints an idempotency key for one form or button, at render time.
func NewKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// actionVals is the hx-vals of a row action: a fresh key, and that the answer is a row.
func actionVals() string { return `{"idempotency_key": "` + NewKey() + `", "view": "row"}` }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return formatTime(*t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
