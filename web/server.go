// Package web is Tally's HTTP server: routes, thin handlers, sessions, CSRF, roles, and the
// one place where errors become statuses and pages.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"tally"
	"tally/accounts"
	"tally/analysis"
	"tally/audit"
	"tally/jobs"
	"tally/metrics"
	"tally/operations"
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
	// Metrics are the process's collectors, served at /metrics; nil: a registry of the
	// server's own.
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// PartnerURL is the partner simulator's address: demo mode's partner controls set its faults.
	PartnerURL string
	// Jobs are the workers' settings (zero fields: their defaults): the jobs console flags a
	// running job stuck past its kind's timeout, and says when River's rescuer takes it back.
	Jobs jobs.Config
}

// Server serves the console.
type Server struct {
	cfg      Config
	log      *slog.Logger
	ping     func(context.Context) error
	accounts *accounts.Service
	analysis *analysis.Service
	audit    *audit.Log
	bookings countedBookings
	metrics  *metrics.Metrics
	// known are the registered routes ("GET /reservations/:id"): a request's route label.
	known    map[string]bool
	river    *jobs.Client
	ops      *operations.Service
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
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New(prometheus.NewRegistry())
	}

	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		ping:     pool.Ping,
		accounts: accounts.NewService(pool, cfg.Demo),
		analysis: analysis.NewService(pool, analysis.Config{Logger: cfg.Logger}),
		audit:    audit.NewLog(pool),
		bookings: countedBookings{Service: bookings, metrics: cfg.Metrics},
		metrics:  cfg.Metrics,
		river:    river,
		ops:      operations.NewService(pool, river, operations.Config{Workers: cfg.Jobs, Logger: cfg.Logger}),
		sessions: newSessions(pool, cfg),
		echo:     echo.New(),
	}
	s.routes()
	s.known = map[string]bool{}
	for _, r := range s.echo.Routes() {
		s.known[r.Method+" "+r.Path] = true
	}
	return s
}

// Routes lists every route the server answers, method and path.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

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

	e.Pre(headAsGet)
	e.Use(requestID)
	e.Use(s.logRequests)
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	e.Use(middleware.BodyLimit("1M"))
	e.Use(validText)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.Handler()))
	e.StaticFS("/static", static.FS)

	e.GET("/favicon.ico", favicon)

	// Every route below names its middleware itself: an echo group with middleware would
	// also answer unknown addresses under its prefix (with a 403 or a sign-in) instead of 404.
	app := []echo.MiddlewareFunc{echo.WrapMiddleware(s.sessions.LoadAndSave), s.keepSession, s.csrf}
	in := append(slices.Clip(app), s.requireUser)
	staff := append(slices.Clip(in), requireRole(tally.RoleStaff))
	admin := append(slices.Clip(in), requireRole(tally.RoleAdmin))
	operator := append(slices.Clip(in), requireRole(tally.RoleOperator))
	engineer := append(slices.Clip(in), requireRole(tally.RoleEngineer))

	e.GET("/login", s.loginPage, app...)
	e.POST("/login", s.login, app...)
	e.POST("/logout", s.logout, app...)
	e.GET("/set-password", s.passwordSetPage, app...)
	e.POST("/set-password", s.passwordSet, app...)

	e.GET("/", s.dashboard, in...)
	e.GET("/dashboard/numbers", s.dashboardNumbers, in...)
	e.GET("/reservations", s.reservationList, in...)
	e.GET("/reservations/:id", s.reservationShow, in...)
	e.GET("/reservations/:id/jobs", s.reservationJobs, in...)
	e.GET("/slots", s.slotList, in...)
	e.GET("/audit", s.auditList, in...)
	e.GET("/reports", s.settlementReportList, in...)
	e.GET("/reports/:day", s.settlementReportDownload, in...)
	e.GET("/queries", s.queryList, in...)
	e.GET("/queries/candidate", s.queryCandidate, in...)
	e.GET("/queries/comparisons", s.queryComparisonList, in...)
	e.GET("/queries/comparisons/:id", s.queryComparisonShow, in...)
	e.GET("/queries/comparisons/:id/progress", s.queryComparisonProgress, in...)
	e.GET("/queries/:name", s.queryShow, in...)
	e.GET("/jobs", s.jobs, in...)
	e.GET("/jobs/live", s.jobOverviewLive, in...)
	e.GET("/jobs/failures", s.jobFailures, in...)
	e.GET("/jobs/:id", s.jobShow, in...)
	e.GET("/queues", s.queueList, in...)

	e.GET("/reservations/new", s.reservationNew, staff...)
	e.GET("/reservations/new/quote", s.reservationQuote, staff...)
	e.GET("/reservations/new/customers", s.reservationCustomers, staff...)
	e.GET("/reservations/new/slots", s.reservationSlots, staff...)
	e.POST("/reservations", s.reservationCreate, staff...)
	e.POST("/reservations/bulk-settle", s.reservationBulkSettle, staff...)
	e.POST("/reservations/:id/approve", s.reservationApprove, staff...)
	e.POST("/reservations/:id/reject", s.reservationReject, staff...)
	e.POST("/reservations/:id/cancel", s.reservationCancel, staff...)
	e.POST("/reservations/:id/settle", s.reservationSettle, staff...)

	e.POST("/reports/generate", s.settlementReportGenerate, operator...)
	e.GET("/partner", s.partnerControl, operator...)
	e.POST("/partner/faults", s.partnerFaultsSet, operator...)
	// The preview of an action on a filter is its first step, a form only operators can send.
	e.GET("/jobs/preview", s.jobPreview, operator...)
	e.POST("/jobs/retry", s.jobRetryMany, operator...)
	e.POST("/jobs/cancel", s.jobCancelMany, operator...)
	e.POST("/jobs/delete", s.jobDeleteMany, operator...)
	e.POST("/jobs/:id/retry", s.jobRetry, operator...)
	e.POST("/jobs/:id/cancel", s.jobCancel, operator...)
	e.POST("/jobs/:id/delete", s.jobDelete, operator...)
	e.POST("/queues/pause", s.queuePause, operator...)
	e.POST("/queues/resume", s.queueResume, operator...)
	e.POST("/queues/:name/pause", s.queuePause, operator...)
	e.POST("/queues/:name/resume", s.queueResume, operator...)

	// Running a statement, even read-only, is an engineer's action: it takes the database's time.
	e.POST("/queries/explain", s.queryExplain, engineer...)
	e.POST("/queries/compare", s.queryCompare, engineer...)
	e.POST("/queries/comparisons/:id/rerun", s.queryComparisonRerun, engineer...)

	e.GET("/users", s.userList, admin...)
	e.POST("/users", s.userCreate, admin...)
	e.POST("/users/:id/role", s.userSetRole, admin...)
	e.POST("/users/:id/disable", s.userDisable, admin...)
	e.POST("/users/:id/enable", s.userEnable, admin...)
	e.POST("/users/:id/password", s.userSetPassword, admin...)
	e.POST("/users/:id/password-link", s.userPasswordLink, admin...)
	e.POST("/sign-in-limits/lift", s.signInLimitLift, admin...)
}

// actor is the signed-in user acting through this request.
func (s *Server) actor(c echo.Context) tally.Actor {
	u := currentUser(c)
	return tally.Actor{ID: u.ID, Email: u.Email, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}
