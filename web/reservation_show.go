package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"tally/jobs"
	"tally/reservations"
	"tally/views"
)

func (s *Server) reservationShow(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "reservation")
	if err != nil {
		return err
	}
	detail, err := s.bookings.Detail(ctx, id)
	if err != nil {
		return err
	}
	r := detail.Reservation
	d := views.ReservationDetail{Row: detail, Amount: reservations.Money(r.AmountCents, r.Currency), Audit: detail.History}
	for _, e := range detail.Ledger {
		d.Ledger = append(d.Ledger, views.LedgerLine{Txn: e.TxnID.String()[:8], Account: e.Account, Amount: reservations.Money(e.AmountCents, e.Currency), At: e.CreatedAt})
	}
	marks, err := s.ops.PayoutMarks(ctx, []int64{id})
	if err != nil {
		return err
	}
	d.Payout = marks[id]
	d.Jobs, err = s.jobsOf(ctx, id)
	if err != nil {
		s.log.Error("listing a reservation's jobs", "err", err, "reservation", id)
		d.JobsErr = "The jobs could not be read just now."
	}
	return render(c, http.StatusOK, views.Reservation(s.page(c, fmt.Sprintf("Reservation #%d", id), "reservations"), d))
}

func (s *Server) reservationJobs(c echo.Context) error {
	id, err := pathID(c, "reservation")
	if err != nil {
		return err
	}
	lines, err := s.jobsOf(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ReservationJobs(s.page(c, "", ""), id, lines, ""))
}

// jobsOf lists a reservation's jobs through River's client API, by the metadata they carry.
func (s *Server) jobsOf(ctx context.Context, id int64) ([]views.JobLine, error) {
	res, err := s.river.JobList(ctx, river.NewJobListParams().Metadata(jobs.ReservationMetadata(id)).First(50))
	if err != nil {
		return nil, err
	}
	lines := make([]views.JobLine, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		line := views.JobLine{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: string(j.State), Attempt: j.Attempt,
			MaxAttempts: j.MaxAttempts, ScheduledAt: j.ScheduledAt, FinalizedAt: j.FinalizedAt}
		if n := len(j.Errors); n > 0 {
			line.LastError = j.Errors[n-1].Error
		}
		lines = append(lines, line)
	}
	return lines, nil
}
