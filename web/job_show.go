package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tally/views"
)

// jobShow is one job's page: args, metadata, timeline, every attempt's error, and its
// reservation.
func (s *Server) jobShow(c echo.Context) error {
	id, err := pathID(c, "job")
	if err != nil {
		return err
	}
	j, err := s.ops.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JobShow(s.page(c, fmt.Sprintf("Job %d", id), "jobs"), views.JobShowPage{Job: j, Now: time.Now()}))
}
