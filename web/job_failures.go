package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tally/views"
)

// jobFailures lists the failure groups: discarded and retryable jobs by kind and masked
// error, with the money at stake.
func (s *Server) jobFailures(c echo.Context) error {
	groups, err := s.ops.FailureGroups(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JobFailures(s.page(c, "Failures", "jobs"), views.JobFailuresPage{Groups: groups, Now: time.Now()}))
}
