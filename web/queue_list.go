package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"tally/views"
)

// queueList lists the queues: paused or not, their jobs and lag; operators pause and resume
// them here.
func (s *Server) queueList(c echo.Context) error {
	o, err := s.ops.Overview(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.QueueList(s.page(c, "Queues", "jobs"), views.QueueListPage{Queues: o.Queues, Now: time.Now()}))
}
