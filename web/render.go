package web

import (
	"errors"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"tally"
	"tally/views"
)

// render writes component with status.
func render(c echo.Context, status int, component templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return component.Render(c.Request().Context(), c.Response())
}

// page returns the shared part of a page, taking the flash out of the session.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, User: currentUser(c), Demo: s.cfg.Demo}
	if c.Get(ctxSession) == nil {
		return p // outside the session middleware (health checks, static files)
	}
	ctx := c.Request().Context()
	p.CSRF = s.sessions.GetString(ctx, sessionCSRF)
	if text := s.sessions.PopString(ctx, sessionFlashText); text != "" {
		p.Flash = views.Flash{Kind: s.sessions.PopString(ctx, sessionFlashKind), Message: text}
	}
	return p
}

// flash keeps a message for the next page the user sees (after a redirect).
func (s *Server) flash(c echo.Context, kind, message string) {
	s.sessions.Put(c.Request().Context(), sessionFlashKind, kind)
	s.sessions.Put(c.Request().Context(), sessionFlashText, message)
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// errorStatus maps the error vocabulary to HTTP, in this one place.
func errorStatus(code string) int {
	switch code {
	case tally.ECONFLICT:
		return http.StatusConflict
	case tally.EFORBIDDEN:
		return http.StatusForbidden
	case tally.EINVALID:
		return http.StatusBadRequest
	case tally.ENOTFOUND:
		return http.StatusNotFound
	case tally.ETOOMANY:
		return http.StatusTooManyRequests
	case tally.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case tally.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// handleError turns any error a handler returns into a response: a flash swapped into the
// page for htmx requests, a whole page otherwise. Only internal errors are logged; users
// never see their text.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, message := errorStatus(tally.ErrorCode(err)), tally.ErrorMessage(err)
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		switch he.Code {
		case http.StatusNotFound:
			message = "There is no page at this address."
		case http.StatusRequestEntityTooLarge:
			message = "The request is too large."
		default:
			message = http.StatusText(he.Code) + "."
		}
	}
	if status >= 500 {
		s.log.Error("internal error", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"path", c.Request().URL.Path)
	}

	if isHTMX(c) {
		// The message goes to the toast region, whatever the request meant to swap or select,
		// and the address bar stays where it was (a filter refused is not a page to go back to).
		h := c.Response().Header()
		h.Set("HX-Retarget", "#flash")
		h.Set("HX-Reswap", "innerHTML")
		h.Set("HX-Reselect", "[data-toast]")
		h.Set("HX-Push-Url", "false")
		h.Set("HX-Replace-Url", "false")
		err = render(c, status, views.FlashMessage(views.Flash{Kind: "error", Message: message}))
	} else {
		err = render(c, status, views.ErrorPage(s.page(c, http.StatusText(status), ""), status, message))
	}
	if err != nil {
		s.log.Error("writing error response", "err", err)
	}
}
