package web

import (
	"context"

	"github.com/labstack/echo/v4"

	"tally/metrics"
	"tally/reservations"
)

// route is the label of the request's route in /metrics: the template it was routed by
// (/reservations/:id/approve), or metrics.Unmatched when no route answers it. Echo gives an
// unmatched address the template of the nearest node of its tree, which is no route at all.
func (s *Server) route(c echo.Context) string {
	if s.known[c.Request().Method+" "+c.Path()] {
		return c.Path()
	}
	return metrics.Unmatched
}

// method is the request's method as a label: only the methods of a route, so that a client
// inventing methods cannot make series.
func (s *Server) method(c echo.Context, route string) string {
	if route == metrics.Unmatched {
		switch m := c.Request().Method; m {
		case "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
			return m
		}
		return "other"
	}
	return c.Request().Method
}

// countedBookings is the reservations service with the outcomes of reserving and of bulk
// settles counted in /metrics (the row actions are counted by reservationAct, which runs them
// all). The domain knows a replay (Outcome.Replayed) and a conflict (ECONFLICT); the count is
// made here, where the metrics are.
type countedBookings struct {
	*reservations.Service
	metrics *metrics.Metrics
}

// Reserve is reservations.Service.Reserve, counted.
func (b countedBookings) Reserve(ctx context.Context, actor reservations.Actor, key string, n reservations.NewReservation) (reservations.Outcome, error) {
	out, err := b.Service.Reserve(ctx, actor, key, n)
	b.metrics.Action("reserve", out.Replayed, err)
	return out, err
}

// SettleMany is reservations.Service.SettleMany, each reservation counted.
func (b countedBookings) SettleMany(ctx context.Context, actor reservations.Actor, ids []int64) (reservations.BulkResult, error) {
	res, err := b.Service.SettleMany(ctx, actor, ids)
	b.bulk(res, err)
	return res, err
}

// SettleSlot is reservations.Service.SettleSlot, each reservation counted.
func (b countedBookings) SettleSlot(ctx context.Context, actor reservations.Actor, slotID int64) (reservations.BulkResult, error) {
	res, err := b.Service.SettleSlot(ctx, actor, slotID)
	b.bulk(res, err)
	return res, err
}

func (b countedBookings) bulk(res reservations.BulkResult, err error) {
	if err != nil {
		b.metrics.Action("bulk_settle", false, err)
		return
	}
	b.metrics.Items("bulk_settle", metrics.OutcomeSuccess, res.Settled)
	b.metrics.Items("bulk_settle", metrics.OutcomeNotDone, res.Failed)
}
