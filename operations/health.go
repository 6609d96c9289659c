package operations

import (
	"context"
	"time"
)

// Health is the queue health the dashboard shows beside today's numbers.
type Health struct {
	// Totals are the jobs per state over every queue.
	Totals map[string]Count
	// Waiting is true when some queue has available jobs; Lag is then the longest wait, in
	// LagQueue.
	Waiting  bool
	Lag      time.Duration
	LagQueue string
	// Paused names the paused queues.
	Paused []string
	// Stuck counts the running jobs past their timeout (up to MaxStuck).
	Stuck int
	// PayoutsFailing and PayoutsCancelled count the payouts failing or cancelled (up to
	// MaxMarks in all; PayoutsMore when there are more).
	PayoutsFailing, PayoutsCancelled int
	PayoutsMore                      bool
}

// Health sums the overview up for the dashboard.
func (s *Service) Health(ctx context.Context) (Health, error) {
	o, err := s.Overview(ctx)
	if err != nil {
		return Health{}, err
	}
	h := Health{Totals: o.Totals, Stuck: len(o.Stuck)}
	for _, q := range o.Queues {
		if q.Waiting && (!h.Waiting || q.Lag > h.Lag) {
			h.Waiting, h.Lag, h.LagQueue = true, q.Lag, q.Name
		}
		if q.Paused() {
			h.Paused = append(h.Paused, q.Name)
		}
	}
	h.PayoutsFailing, h.PayoutsCancelled, h.PayoutsMore, err = s.PayoutProblemCounts(ctx)
	if err != nil {
		return h, err
	}
	return h, nil
}
