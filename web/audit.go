package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/queries"
	"tally/views"
)

func (s *Server) auditLog(c echo.Context) error {
	f := views.AuditFilter{
		Actor: strings.TrimSpace(c.QueryParam("actor")), Action: strings.TrimSpace(c.QueryParam("action")),
		RecordType: c.QueryParam("record_type"), RecordID: c.QueryParam("record_id"),
	}
	p := queries.AuditListLatestParams{RowLimit: pageSize}
	for _, v := range []struct {
		value string
		dst   **string
	}{{f.Actor, &p.Actor}, {f.Action, &p.Action}, {f.RecordType, &p.RecordType}} {
		if len(v.value) > 254 {
			return tally.Errorf(tally.EINVALID, "A filter is too long.")
		} else if v.value != "" {
			*v.dst = &v.value
		}
	}
	var err error
	if p.RecordID, err = optionalID("record_id", f.RecordID); err != nil {
		return err
	}
	if p.BeforeID, err = optionalID("before", c.QueryParam("before")); err != nil {
		return err
	}
	events, err := s.q.AuditListLatest(c.Request().Context(), p)
	if err != nil {
		return err
	}
	var next string
	if len(events) == pageSize {
		q := url.Values{"actor": {f.Actor}, "action": {f.Action}, "record_type": {f.RecordType}, "record_id": {f.RecordID},
			"before": {strconv.FormatInt(events[len(events)-1].ID, 10)}}
		next = "/audit?" + q.Encode()
	}
	return render(c, http.StatusOK, views.AuditLog(s.page(c, "Audit log", "audit"), f, events, next))
}
