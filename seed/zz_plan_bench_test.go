package seed

import (
	"math/rand/v2"
	"testing"
	"time"
)

func BenchmarkPlan1M(b *testing.B) {
	now := time.Now().UTC().Truncate(time.Hour)
	for b.Loop() {
		var slots []plannedSlot
		for i := 0; i < 61200; i++ {
			slots = append(slots, plannedSlot{resourceID: int64(i%6 + 1), startsAt: now.Add(time.Duration(i-40000) * 10 * time.Minute), capacity: 80, price: 4000})
		}
		rng := rand.New(rand.NewPCG(1, 2))
		planReservations(rng, slots, 1_000_000, 1, 50000, now, nil)
	}
}

func BenchmarkJobs1M(b *testing.B) {
	var notices, payouts []jobReservation
	for i := 0; i < 100000; i++ {
		jr := jobReservation{id: int64(i), notice: []byte(`{}`), payout: []byte(`{}`), metadata: []byte(`{}`)}
		notices = append(notices, jr)
		payouts = append(payouts, jr)
	}
	for b.Loop() {
		g := newJobGenerator(rand.New(rand.NewPCG(1, 2)), time.Now(), 200_000, notices, payouts)
		for i := 0; i < 200_000; i++ {
			g.job(i)
		}
	}
}
