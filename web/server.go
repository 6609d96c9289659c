// Package web is Tally's HTTP server: routes, thin handlers, sessions, CSRF, roles, and the
// one place where errors become statuses and pages.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"tally"
	"tally/accounts"
	"tally/jobs"
	"tally/queries"
	"tally/reservations"
	"tally/static"
)

// Config is what the web server needs to know about its deployment.
type Config struct {
	// Demo lets demo accounts sign in and lists them on the sign-in page.
	Demo bool
	// SecureCookies marks the session cookie Secure; on when Tally is served over TLS.
	SecureCookies bool
	// TrustProxy takes the client address from X-Forwarded-For (only behind a proxy that sets it).
	TrustProxy bool
	// SessionIdle and SessionLifetime end a session after inactivity and absolutely.
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	Logger          *slog.Logger
}

// Server serves the console.
type Server struct {
	cfg      Config
	log      *slog.Logger
	pool     *pgxpool.Pool
	q        *queries.Queries
	accounts *accounts.Service
	bookings *reservations.Service
	river    *jobs.Client
	sessions *scs.SessionManager
	echo     *echo.Echo
}

// New builds the server and its routes. bookings runs the reservation actions; river is used
// to read jobs (it need not work them).
func New(cfg Config, pool *pgxpool.Pool, bookings *reservations.Service, river *jobs.Client) *Server {
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	sm := scs.New()
	// Expired sessions are purged by a River periodic job, not by a goroutine per process.
	sm.Store = pgxstore.NewWithCleanupInterval(pool, 0)
	sm.IdleTimeout = cfg.SessionIdle
	sm.Lifetime = cfg.SessionLifetime
	sm.Cookie.Name = "tally_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies

	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		pool:     pool,
		q:        queries.New(pool),
		accounts: accounts.NewService(pool, cfg.Demo),
		bookings: bookings,
		river:    river,
		sessions: sm,
		echo:     echo.New(),
	}
	s.routes()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

func (s *Server) routes() {
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	if s.cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}

	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit("1M"))
	e.Use(validText)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.StaticFS("/static", static.FS)

	// Everything below has a session and CSRF protection.
	app := e.Group("", echo.WrapMiddleware(s.sessions.LoadAndSave), s.csrf)
	app.GET("/login", s.loginPage)
	app.POST("/login", s.login)
	app.POST("/logout", s.logout)

	in := app.Group("", s.requireUser)
	in.GET("/", s.dashboard)
	in.GET("/dashboard/numbers", s.dashboardNumbers)

	in.GET("/reservations", s.reservationList)
	in.GET("/reservations/:id", s.reservationShow)
	in.GET("/reservations/:id/jobs", s.reservationJobs)
	in.GET("/slots", s.slotList)
	in.GET("/audit", s.auditLog)
	staff := in.Group("", requireRole(tally.RoleStaff))
	staff.GET("/reservations/new", s.reservationNew)
	staff.GET("/reservations/new/quote", s.reservationQuote)
	staff.GET("/reservations/new/customers", s.reservationCustomers)
	staff.GET("/reservations/new/slots", s.reservationSlots)
	staff.POST("/reservations", s.reservationCreate)
	staff.POST("/reservations/bulk-settle", s.reservationBulkSettle)
	staff.POST("/reservations/:id/:action", s.reservationAct)

	admin := in.Group("", requireRole(tally.RoleAdmin))
	admin.GET("/users", s.userList)
	admin.POST("/users", s.userCreate)
	admin.POST("/users/:id/role", s.userSetRole)
	admin.POST("/users/:id/disable", s.userDisable)
	admin.POST("/users/:id/enable", s.userEnable)
}
