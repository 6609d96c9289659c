package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"tally/operations"
	"tally/views"
)

func (s *Server) queuePause(c echo.Context) error  { return s.queueAct(c, true) }
func (s *Server) queueResume(c echo.Context) error { return s.queueAct(c, false) }

// queueAct pauses or resumes one queue (POST /queues/:name/pause, …/resume) or every queue
// (POST /queues/pause, /queues/resume), through River's client, audited.
func (s *Server) queueAct(c echo.Context, pause bool) error {
	name := queueName(c)
	if name == "" {
		name = operations.AllQueues
	}
	reason, err := jobReason(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if pause {
		err = s.ops.PauseQueue(ctx, s.actor(c), name, reason)
	} else {
		err = s.ops.ResumeQueue(ctx, s.actor(c), name, reason)
	}
	if err != nil {
		return err
	}
	what := "Queue " + name
	if name == operations.AllQueues {
		what = "Every queue"
	}
	msg := what + " resumed: workers fetch its jobs again."
	if pause {
		msg = what + " paused: running jobs finish, no more are fetched."
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Trigger", jobsChanged)
		return render(c, http.StatusOK, views.FlashOOB(views.Flash{Kind: "ok", Message: msg}))
	}
	s.flash(c, "ok", msg)
	return c.Redirect(http.StatusSeeOther, "/queues")
}
