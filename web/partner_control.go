package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/jobs"
	"tally/views"
)

// The partner controls exist in demo mode only, where the partner is Tally's simulator: a
// real partner has no /control, and a production console offers nothing to break it.
func (s *Server) partnerControlsOn() bool { return s.cfg.Demo && s.cfg.PartnerURL != "" }

func (s *Server) partnerControl(c echo.Context) error {
	if !s.partnerControlsOn() {
		return echo.ErrNotFound
	}
	return s.renderPartnerControl(c, http.StatusOK, nil)
}

// renderPartnerControl shows the page; form, when given, is a refused form to show again.
func (s *Server) renderPartnerControl(c echo.Context, status int, form *views.PartnerFaultsForm) error {
	ctx := c.Request().Context()
	v := views.PartnerControlPage{URL: s.cfg.PartnerURL, MaxLatencyMS: strconv.FormatInt(jobs.MaxPartnerLatency.Milliseconds(), 10)}
	faults, err := jobs.NewPartnerControl(s.cfg.PartnerURL).Faults(ctx)
	if err != nil {
		// The simulator down is something to show, not a broken page.
		v.Unreachable = tally.ErrorMessage(err)
	} else {
		v.Now = faults.String()
		v.Form = views.PartnerFaultsForm{
			ErrorRate: strconv.FormatFloat(math.Round(faults.ErrorRate*1000)/10, 'f', -1, 64),
			LatencyMS: strconv.FormatInt(faults.Latency.Milliseconds(), 10), Outage: faults.Outage, Reject: faults.Reject,
		}
	}
	if form != nil {
		v.Form = *form
	}
	circuit, err := jobs.ClientCircuit(ctx, s.river)
	if err != nil {
		return err
	}
	v.Circuit = partnerCircuitView(circuit, time.Now())
	return render(c, status, views.PartnerControl(s.page(c, "Partner controls", "partner"), v))
}

// partnerFaultsSet sets the simulator's faults (operators, audited). A form that does not
// parse is shown again with the reason; a simulator that does not answer is a flash.
func (s *Server) partnerFaultsSet(c echo.Context) error {
	if !s.partnerControlsOn() {
		return echo.ErrNotFound
	}
	form := views.PartnerFaultsForm{ErrorRate: c.FormValue("error_rate"), LatencyMS: c.FormValue("latency_ms")}
	faults, err := parsePartnerFaults(c, &form)
	if err == nil {
		faults, err = jobs.SetPartnerFaults(c.Request().Context(), s.river, jobs.NewPartnerControl(s.cfg.PartnerURL), s.actor(c), faults)
	}
	switch tally.ErrorCode(err) {
	case "":
	case tally.EINVALID:
		form.Error = tally.ErrorMessage(err)
		return s.renderPartnerControl(c, http.StatusBadRequest, &form)
	case tally.EUNPROCESSABLE:
		s.flash(c, "error", tally.ErrorMessage(err))
		return c.Redirect(http.StatusSeeOther, "/partner")
	default:
		return err
	}
	s.flash(c, "ok", "The partner's faults are now: "+faults.String()+".")
	return c.Redirect(http.StatusSeeOther, "/partner")
}

// parsePartnerFaults reads the form: the error rate in percent, the latency in
// milliseconds (both empty for 0), and the outage and reject boxes. It keeps the boxes as
// sent in form, to show a refused form again.
func parsePartnerFaults(c echo.Context, form *views.PartnerFaultsForm) (jobs.PartnerFaults, error) {
	var f jobs.PartnerFaults
	var err error
	if form.Outage, err = partnerCheckbox("outage", c.FormValue("outage")); err != nil {
		return f, err
	}
	if form.Reject, err = partnerCheckbox("reject", c.FormValue("reject")); err != nil {
		return f, err
	}
	f.Outage, f.Reject = form.Outage, form.Reject
	if v := strings.TrimSpace(form.ErrorRate); v != "" {
		pct, err := strconv.ParseFloat(v, 64)
		if err != nil || !(pct >= 0 && pct <= 100) {
			return f, tally.Errorf(tally.EINVALID, "The error rate must be a percentage from 0 to 100.")
		}
		f.ErrorRate = pct / 100
	}
	if v := strings.TrimSpace(form.LatencyMS); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 || ms > jobs.MaxPartnerLatency.Milliseconds() {
			return f, tally.Errorf(tally.EINVALID, "The latency must be a whole number of milliseconds from 0 to %d.", jobs.MaxPartnerLatency.Milliseconds())
		}
		f.Latency = time.Duration(ms) * time.Millisecond
	}
	return f, f.Validate()
}

// partnerCheckbox reads a checkbox: absent is off; a value no browser sends is refused.
func partnerCheckbox(name, v string) (bool, error) {
	switch v {
	case "", "off", "false", "0":
		return false, nil
	case "on", "true", "1":
		return true, nil
	}
	return false, tally.Errorf(tally.EINVALID, "%s must be on or off.", name)
}

// partnerCircuitView is the circuit as the console shows it, at now. The dashboard and the
// jobs overview can show it with views.PartnerCircuit.
func partnerCircuitView(st jobs.CircuitStatus, now time.Time) views.PartnerCircuitView {
	v := views.PartnerCircuitView{State: st.State, Failures: st.Failures, LastError: st.LastError, Worker: st.Worker}
	if st.OpenedAt != nil {
		v.OpenedAt = circuitClock(*st.OpenedAt)
	}
	if st.NextProbeAt != nil {
		v.NextProbe = circuitClock(*st.NextProbeAt)
		if d := st.NextProbeAt.Sub(now); d > 0 {
			v.NextProbe += fmt.Sprintf(" (in %s)", d.Round(time.Second))
		}
	}
	if st.Known {
		v.Changed = circuitClock(st.ChangedAt)
	}
	return v
}

func circuitClock(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
