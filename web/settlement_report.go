package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/reservations"
	"tally/views"
)

// reportPageSize is how many days the reports page lists at a time: two months.
const reportPageSize = 60

func (s *Server) settlementReportList(c echo.Context) error {
	return s.renderSettlementReports(c, http.StatusOK, "")
}

// renderSettlementReports shows the reports page, with problem as the generate form's error.
func (s *Server) renderSettlementReports(c echo.Context, status int, problem string) error {
	var before *time.Time
	if v := c.QueryParam("before"); v != "" {
		day, err := reservations.ParseDay(v)
		if err != nil {
			return err
		}
		before = &day
	}
	list, err := s.bookings.SettlementReports(c.Request().Context(), before, reportPageSize+1)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	v := views.SettlementReportsPage{
		Day: now.AddDate(0, 0, -1).Format(time.DateOnly), Today: now.Format(time.DateOnly), Error: problem,
	}
	for i, r := range list {
		if i == reportPageSize {
			v.Older = "/reports?before=" + list[i-1].Day.Format(time.DateOnly)
			break
		}
		v.Reports = append(v.Reports, views.SettlementReportLine{
			Day: r.Day.Format(time.DateOnly), Rows: r.Rows, Size: byteSize(r.Bytes), GeneratedAt: r.GeneratedAt.UTC().Format("2006-01-02 15:04:05"),
		})
	}
	return render(c, status, views.SettlementReports(s.page(c, "Settlement reports", "reports"), v))
}

// settlementReportDownload serves one day's report, at /reports/2026-01-31.csv (or without
// the extension).
func (s *Server) settlementReportDownload(c echo.Context) error {
	day, err := reservations.ParseDay(strings.TrimSuffix(c.Param("day"), ".csv"))
	if err != nil {
		return err
	}
	r, err := s.bookings.SettlementReport(c.Request().Context(), day)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", r.Filename()))
	// Generating the day again replaces the report: never serve a stale copy.
	h.Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", r.CSV)
}

// settlementReportGenerate queues one day's report (operators). A day that is not one, or
// has not begun, re-renders the page with the reason.
func (s *Server) settlementReportGenerate(c echo.Context) error {
	day, err := reservations.ParseDay(c.FormValue("day"))
	var req reservations.ReportRequest
	if err == nil {
		req, err = s.bookings.RequestSettlementReport(c.Request().Context(), s.actor(c), day)
	}
	if tally.ErrorCode(err) == tally.EINVALID {
		return s.renderSettlementReports(c, http.StatusBadRequest, tally.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	s.flash(c, "ok", req.Message)
	return c.Redirect(http.StatusSeeOther, "/reports")
}

// byteSize writes a file size for people: 812 B, 1.2 kB, 3.4 MB.
func byteSize(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1000/1000)
}
