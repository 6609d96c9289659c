// Package tally holds the words the whole application shares: the error vocabulary that the
// web layer turns into HTTP statuses, and the roles of the people who sign in.
package tally

import (
	"errors"
	"fmt"
)

// Error codes. Each one maps to a single HTTP status in package web.
const (
	ECONFLICT      = "conflict"      // the record is not in a state that allows this (409)
	EFORBIDDEN     = "forbidden"     // the signed-in user's role does not allow this (403)
	EINTERNAL      = "internal"      // a bug or an outage; the user sees "Internal error" (500)
	EINVALID       = "invalid"       // the input is malformed; nothing was changed (400)
	ENOTFOUND      = "not_found"     // no such record (404)
	ETOOMANY       = "too_many"      // rate limited (429)
	EUNAUTHORIZED  = "unauthorized"  // not signed in, or wrong credentials (401)
	EUNPROCESSABLE = "unprocessable" // well-formed but refused, e.g. an idempotency key reused for another request (422)
)

// Error is an error meant for the person who caused it: Message is shown to them as it is.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("tally error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or EINTERNAL when err carries none.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err meant for users; "Internal error." for anything
// that is not an *Error, so internal details never reach a page.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Actor is who does something, and the request it comes through, for the audit trail.
// ID is zero for the system (periodic jobs, the command line).
type Actor struct {
	ID        int64
	Email     string
	RequestID string
}
