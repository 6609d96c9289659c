package web_test

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/internal/fixture"
	"tally/reservations"
	"tally/web"
)

// Who may use a route.
type access int

const (
	public   access = iota // anyone, signed in or not
	signedIn               // any signed-in user
	staff                  // staff and admin
	admin                  // admin only
	operator               // operators and admin
	engineer               // engineers and admin
)

// routeTable is every route Tally answers and who may use it. A route missing here fails
// TestRouteTable: a new route has to say who it is for.
var routeTable = map[string]access{
	"GET /healthz":                    public,
	"GET /readyz":                     public,
	"GET /metrics":                    public, // for Prometheus, like the health checks
	"GET /favicon.ico":                public,
	"GET /static*":                    public,
	"GET /login":                      public,
	"POST /login":                     public,
	"POST /logout":                    public,
	"GET /set-password":               public,
	"POST /set-password":              public,
	"GET /":                           signedIn,
	"GET /dashboard/numbers":          signedIn,
	"GET /reservations":               signedIn,
	"GET /reservations/:id":           signedIn,
	"GET /reservations/:id/jobs":      signedIn,
	"GET /slots":                      signedIn,
	"GET /audit":                      signedIn,
	"GET /reports":                    signedIn,
	"GET /reports/:day":               signedIn,
	"POST /reports/generate":          operator,
	"GET /partner":                    operator,
	"POST /partner/faults":            operator,
	"GET /reservations/new":           staff,
	"GET /reservations/new/quote":     staff,
	"GET /reservations/new/customers": staff,
	"GET /reservations/new/slots":     staff,
	"POST /reservations":              staff,
	"POST /reservations/bulk-settle":  staff,
	"POST /reservations/:id/approve":  staff,
	"POST /reservations/:id/reject":   staff,
	"POST /reservations/:id/cancel":   staff,
	"POST /reservations/:id/settle":   staff,
	"GET /users":                      admin,
	"POST /users":                     admin,
	"POST /users/:id/role":            admin,
	"POST /users/:id/disable":         admin,
	"POST /users/:id/enable":          admin,
	"POST /users/:id/password":        admin,
	"POST /users/:id/password-link":   admin,
	"POST /sign-in-limits/lift":       admin,
	"GET /jobs":                       signedIn,
	"GET /jobs/live":                  signedIn,
	"GET /jobs/failures":              signedIn,
	"GET /jobs/:id":                   signedIn,
	"GET /queues":                     signedIn,
	"GET /jobs/preview":               operator,
	"POST /jobs/retry":                operator,
	"POST /jobs/cancel":               operator,
	"POST /jobs/delete":               operator,
	"POST /jobs/:id/retry":            operator,
	"POST /jobs/:id/cancel":           operator,
	"POST /jobs/:id/delete":           operator,
	"POST /queues/pause":              operator,
	"POST /queues/resume":             operator,
	"POST /queues/:name/pause":        operator,
	"POST /queues/:name/resume":       operator,
	// Query analysis: reading for everyone signed in, running for engineers.
	"GET /queries":                          signedIn,
	"GET /queries/candidate":                signedIn,
	"GET /queries/comparisons":              signedIn,
	"GET /queries/comparisons/:id":          signedIn,
	"GET /queries/comparisons/:id/progress": signedIn,
	"GET /queries/:name":                    signedIn,
	"POST /queries/explain":                 engineer,
	"POST /queries/compare":                 engineer,
	"POST /queries/comparisons/:id/rerun":   engineer,
}

// TestRouteTable walks every registered route as every role and as nobody, with and without
// the CSRF token, and checks the answer against routeTable: nobody is sent to sign in, a role
// without the right gets 403, a request without the token gets 403 and changes nothing,
// everyone else gets through (whatever the handler then says of the empty form, never a 5xx).
func TestRouteTable(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	pool := a.Pool
	roles := map[string]tally.Role{"admin": tally.RoleAdmin, "staff": tally.RoleStaff, "operator": tally.RoleOperator, "engineer": tally.RoleEngineer}
	browsers := map[string]*browser{"nobody": a.browser()}
	browsers["nobody"].get("/login") // a session and a token, as a visitor of the sign-in page has
	for name, role := range roles {
		a.user(name+"@example.com", role)
		browsers[name] = a.browser()
		browsers[name].signIn(name + "@example.com")
	}
	slot, customer := fixture.Slot(t, pool, 10, 1000), fixture.Customer(t, pool)
	target := fixture.User(t, pool, "target@example.com", tally.RoleStaff)
	out, err := a.Service.Reserve(t.Context(), tally.Actor{ID: target.ID, Email: target.Email}, "route-table-key",
		reservations.NewReservation{SlotID: slot.ID, CustomerID: customer.ID, Seats: 1})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"reservation": fmt.Sprint(out.Reservation.ID), "user": fmt.Sprint(target.ID)}

	t.Run("unknown addresses are 404 for everyone", func(t *testing.T) {
		for who, b := range browsers {
			for _, path := range []string{"/nope", "/users/nope/x", "/reservations/1/explode", "/admin"} {
				if p := b.get(path); p.Status != http.StatusNotFound {
					t.Errorf("GET %s as %s: %d, want 404", path, who, p.Status)
				}
			}
		}
	})

	srv := web.New(web.Config{Logger: slog.New(slog.DiscardHandler)}, pool, a.Service, a.Jobs)
	routes := srv.Routes()
	// Signing out ends the sessions the other routes need: it goes last.
	last := func(r *echo.Route) int {
		if r.Path == "/logout" {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(routes, func(x, y *echo.Route) int { return cmp.Compare(last(x), last(y)) })
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if r.Method == http.MethodHead || r.Method == echoRouteNotFound {
			continue
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		need, ok := routeTable[key]
		if !ok {
			t.Errorf("route %s is not in routeTable: add it with who may use it", key)
			continue
		}
		path := strings.TrimSuffix(r.Path, "*") + map[bool]string{true: "/tally.css", false: ""}[strings.HasSuffix(r.Path, "*")]
		if strings.HasPrefix(r.Path, "/users/") {
			path = strings.Replace(path, ":id", ids["user"], 1)
		}
		path = strings.Replace(path, ":id", ids["reservation"], 1)
		for who, b := range browsers {
			for _, withToken := range []bool{true, false} {
				if r.Method == http.MethodGet && !withToken {
					continue
				}
				p := send(b, r.Method, path, withToken)
				if p.Status >= 500 {
					t.Errorf("%s as %s (token %v): %d", key, who, withToken, p.Status)
					continue
				}
				want := expected(need, who, roles, r.Method, withToken)
				if !want.match(p) {
					t.Errorf("%s as %s (token %v): got %d %q, want %s", key, who, withToken, p.Status, p.Location, want)
				}
			}
		}
	}
	for key := range routeTable {
		if !seen[key] {
			t.Errorf("routeTable names %s, which the server does not answer", key)
		}
	}

}

// echoRouteNotFound is the method echo gives the catch-all routes it adds for groups.
const echoRouteNotFound = "echo_route_not_found"

type outcome struct {
	status int    // 0: anything below 500 except 401, 403 and a sign-in redirect
	login  bool   // a 303 to the sign-in page
	text   string // how the test names it
	// anything: any answer below 500 but 403
	anything bool
}

func (o outcome) String() string { return o.text }

func (o outcome) match(p page) bool {
	toLogin := p.Status == http.StatusSeeOther && strings.HasPrefix(p.Location, "/login")
	switch {
	case o.anything:
		return p.Status < 500 && p.Status != http.StatusForbidden
	case o.login:
		return toLogin
	case o.status != 0:
		return p.Status == o.status
	}
	return p.Status < 500 && p.Status != http.StatusForbidden && p.Status != http.StatusUnauthorized && !toLogin
}

func expected(need access, who string, roles map[string]tally.Role, method string, withToken bool) outcome {
	through := outcome{text: "through (not 401/403/5xx, not sent to sign in)"}
	if method != http.MethodGet && !withToken {
		return outcome{status: http.StatusForbidden, text: "403 (no CSRF token)"}
	}
	if need == public {
		return outcome{anything: true, text: "anything but 403 or 5xx"} // e.g. 401 for an empty sign-in
	}
	role, signed := roles[who]
	if !signed {
		return outcome{login: true, text: "303 to /login"}
	}
	switch {
	case need == staff && !role.Allows(tally.RoleStaff), need == admin && !role.Allows(tally.RoleAdmin),
		need == operator && !role.Allows(tally.RoleOperator), need == engineer && !role.Allows(tally.RoleEngineer):
		return outcome{status: http.StatusForbidden, text: "403 (role)"}
	}
	return through
}

// send makes one request as b, with or without its CSRF token.
func send(b *browser, method, path string, withToken bool) page {
	if method == http.MethodGet {
		return b.get(path)
	}
	form := url.Values{}
	if !withToken {
		form.Set("_csrf", "")
	}
	return b.post(path, form)
}
