package views

import (
	"fmt"
	"net/http"
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
