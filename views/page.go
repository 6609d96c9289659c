// Package views holds Tally's templ components and pages. Pages take a Page for the parts
// every screen shares (who is signed in, the CSRF token, the flash) and a view model of
// their own.
package views

import "tally"

// Page is what the layout needs on every screen.
type Page struct {
	Title string
	// Nav names the active section of the navigation bar.
	Nav   string
	User  *SignedIn
	CSRF  string
	Flash Flash
	// Demo is true when the server runs in demo mode.
	Demo bool
}

// SignedIn is the person the page is shown to.
type SignedIn struct {
	ID    int64
	Email string
	Name  string
	Role  tally.Role
}

// Can reports whether the signed-in person may do what needs role.
func (s *SignedIn) Can(role tally.Role) bool { return s != nil && s.Role.Allows(role) }

// Flash is a one-line outcome shown at the top of the page. Kind is "ok", "error" or "info".
type Flash struct {
	Kind    string
	Message string
}

// csrfHeaders is the hx-headers value that makes htmx send the CSRF token with every request.
func csrfHeaders(token string) string { return `{"X-CSRF-Token": "` + token + `"}` }
