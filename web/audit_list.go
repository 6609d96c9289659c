package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"tally/views"
)

func (s *Server) auditList(c echo.Context) error {
	raw, f, err := parseAuditFilter(c)
	if err != nil {
		return err
	}
	events, err := s.audit.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	var next string
	if len(events) == int(f.Limit) {
		q := url.Values{"actor": {raw.Actor}, "action": {raw.Action}, "record_type": {raw.RecordType}, "record_id": {raw.RecordID},
			"before": {strconv.FormatInt(events[len(events)-1].ID, 10)}}
		next = "/audit?" + q.Encode()
	}
	return render(c, http.StatusOK, views.AuditLog(s.page(c, "Audit log", "audit"), raw, events, next))
}
