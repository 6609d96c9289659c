// Package seed fills the database with a believable demo business — resources, slots over
// the coming weeks, customers, reservations in every state with their ledger postings — and,
// on demand, with large skewed volumes loaded through COPY so that query plans mean something.
package seed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tally/queries"
	"tally/reservations"
)

// Options say how much to make.
type Options struct {
	// Reservations is how many reservations to add. Zero seeds the demo business once (and
	// does nothing if the database already has resources).
	Reservations int
	// FinishedJobs is how many finished River jobs to add, about the reservations there are.
	FinishedJobs int
	// Progress receives progress lines while it runs (nil: none).
	Progress io.Writer
	// Random seeds the generator, so that a run can be repeated.
	Random uint64
}

// Summary says what was added.
type Summary struct {
	Resources, Slots, Customers, Reservations int
	LedgerEntries                             int64
	FinishedJobs                              int
	Took                                      time.Duration
}

var demoResources = []struct {
	name, kind string
	capacity   int32
	price      int64
}{
	{"Grand Hall", "hall", 120, 4500},
	{"Harbour Tour", "tour", 30, 2500},
	{"Studio A", "room", 12, 8000},
	{"Rooftop Terrace", "venue", 60, 3500},
	{"Wine Cellar Tasting", "tour", 16, 6000},
	{"Kayak Trip", "tour", 10, 5500},
}

// feeBasisPoints is the partner's fee on the seeded settlements (2.9 %).
const feeBasisPoints = 290

// reservationTables are the tables a reservation seed loads.
var reservationTables = []string{"customers", "slots", "reservations", "ledger_entries"}

// Run seeds. Everything happens in one transaction: a failed run leaves nothing behind.
//
// A volume run at least as large as the reservations already there is a bulk load: the loaded
// tables' indexes and foreign keys are dropped for the load and rebuilt after it (see
// takeOffline), which locks those tables against other sessions until the seed commits.
func Run(ctx context.Context, pool *pgxpool.Pool, opts Options) (Summary, error) {
	start := time.Now()
	var sum Summary
	rng := rand.New(rand.NewPCG(opts.Random, 7261))
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format, args...)
		}
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		return sum, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := queries.New(tx)
	if err := q.SeedTune(ctx, sortMemory); err != nil {
		return sum, err
	}

	existing, err := q.ResourceCount(ctx)
	if err != nil {
		return sum, err
	}
	if opts.Reservations > 0 || existing == 0 {
		if err := seedReservations(ctx, tx, q, rng, opts, &sum, progress); err != nil {
			return sum, err
		}
	}
	if opts.FinishedJobs > 0 {
		n, err := seedFinishedJobs(ctx, tx, q, rng, opts.FinishedJobs, progress)
		if err != nil {
			return sum, err
		}
		sum.FinishedJobs = n
	}
	if sum.Reservations == 0 && sum.FinishedJobs == 0 {
		return sum, nil // already seeded
	}
	// Fresh statistics for the planner, committed with the rows.
	analyse := time.Now()
	if sum.Reservations > 0 {
		if err := q.SeedAnalyze(ctx); err != nil {
			return sum, err
		}
	}
	if sum.FinishedJobs > 0 {
		if err := q.SeedRiverAnalyze(ctx); err != nil {
			return sum, err
		}
	}
	commit := time.Now()
	if err := tx.Commit(ctx); err != nil {
		return sum, err
	}
	if opts.Reservations > 0 || opts.FinishedJobs > 0 {
		progress("  analysed in %s, committed in %s\n", commit.Sub(analyse).Round(100*time.Millisecond), time.Since(commit).Round(100*time.Millisecond))
	}
	sum.Took = time.Since(start)
	return sum, nil
}

// seedReservations adds the demo business (opts.Reservations zero) or a volume of
// reservations with the slots and customers to hold them, and the ledger of the settled ones.
func seedReservations(ctx context.Context, tx pgx.Tx, q *queries.Queries, rng *rand.Rand, opts Options, sum *Summary, progress func(string, ...any)) error {
	start := time.Now()
	demo := opts.Reservations == 0
	want := opts.Reservations
	if demo {
		want = 600
	}
	resources, err := q.ResourceListAll(ctx)
	if err != nil {
		return err
	}
	if len(resources) == 0 {
		for _, r := range demoResources {
			res, err := q.ResourceInsert(ctx, queries.ResourceInsertParams{Name: r.name, Kind: r.kind})
			if err != nil {
				return err
			}
			resources = append(resources, res)
		}
		sum.Resources = len(resources)
	}
	lastReservation, err := q.ReservationMaxID(ctx)
	if err != nil {
		return err
	}
	lastEntry, err := q.LedgerEntryMaxID(ctx)
	if err != nil {
		return err
	}

	var off *offline
	if !demo && int64(want) >= lastReservation {
		// The ledger's balance trigger checks each statement's transactions; one query over
		// the load's entries checks them all at once. The counts of reservations per resource
		// and status, kept by a trigger that sums each statement's rows, are counted again.
		off, err = takeOffline(ctx, tx, q, reservationTables, map[string]standIn{
			"ledger_entries_balanced": func(ctx context.Context, q *queries.Queries) error { return ledgerBalanced(ctx, q, lastEntry) },
			"reservation_counts_insert": func(ctx context.Context, q *queries.Queries) error {
				return q.ReservationCountsRebuild(ctx)
			},
		}, progress)
		if err != nil {
			return err
		}
	}

	// Slots: the demo has three a day per resource over the last two weeks and the next four;
	// a volume run adds enough over the past year and the next two months to hold its
	// reservations.
	now := time.Now().UTC().Truncate(time.Hour)
	daysBack, daysAhead, perDay, capScale := 14, 28, 3, int32(1)
	if !demo {
		daysBack, daysAhead = 365, 60
		capScale = 2
		// Room for three times the seats the reservations take (2.5 on average each), so
		// that the skew can fill its favourite slots and the rest still fit.
		avgCapacity := 0
		for _, d := range demoResources {
			avgCapacity += int(d.capacity) * int(capScale)
		}
		avgCapacity /= len(demoResources)
		slotsNeeded := want * 3 * 5 / 2 / avgCapacity
		perDay = max(1, min(24, slotsNeeded/(len(resources)*(daysBack+daysAhead))+1))
	}
	var slots []plannedSlot
	for day := -daysBack; day < daysAhead; day++ {
		for ri, r := range resources {
			d := demoResources[ri%len(demoResources)]
			for k := 0; k < perDay; k++ {
				hour := 9 + (k*13/perDay+ri)%13
				slots = append(slots, plannedSlot{
					resourceID: r.ID, startsAt: time.Date(now.Year(), now.Month(), now.Day()+day, hour, 0, 0, 0, time.UTC),
					capacity: d.capacity * capScale, price: d.price,
				})
			}
		}
	}

	customerCount := max(300, want/20)
	before, err := q.CustomerIDRange(ctx)
	if err != nil {
		return err
	}
	if err := copyCustomers(ctx, q, rng, customerCount, before.LastID); err != nil {
		return err
	}
	sum.Customers = customerCount
	after, err := q.CustomerIDRange(ctx)
	if err != nil {
		return err
	}
	// One COPY takes consecutive ids, though not necessarily right after the old highest.
	firstCustomer := after.LastID - int64(customerCount) + 1

	var staff *int64
	if u, err := q.UserGetByEmail(ctx, "staff@tally.test"); err == nil {
		staff = &u.ID
	}

	plan := planReservations(rng, slots, want, firstCustomer, int64(customerCount), now, staff)
	progress("Seeding %d slots, %d customers, %d reservations…\n", len(slots), customerCount, len(plan))
	if !demo {
		progress("  customers added, reservations planned in %s\n", time.Since(start).Round(100*time.Millisecond))
	}

	maxSlot, err := q.SlotMaxID(ctx)
	if err != nil {
		return err
	}
	slotRows := make([]queries.SlotCopyParams, len(slots))
	for i, s := range slots {
		slotRows[i] = queries.SlotCopyParams{ResourceID: s.resourceID, StartsAt: s.startsAt, Capacity: s.capacity,
			Reserved: s.reserved, PriceCents: s.price, Currency: "EUR"}
	}
	if _, err := q.SlotCopy(ctx, slotRows); err != nil {
		return err
	}
	slotIDs, err := q.SlotIDsAfter(ctx, maxSlot)
	if err != nil {
		return err
	}
	sum.Slots = len(slotIDs)

	const chunk = 100_000
	for startAt := 0; startAt < len(plan); startAt += chunk {
		part := plan[startAt:min(startAt+chunk, len(plan))]
		for i := range part {
			part[i].SlotID = slotIDs[part[i].SlotID] // the plan holds slot indexes
		}
		if _, err := q.ReservationCopy(ctx, part); err != nil {
			return err
		}
		sum.Reservations += len(part)
		if !demo {
			progress("  reservations %d / %d (%.0f%%) in %s\n", sum.Reservations, len(plan),
				100*float64(sum.Reservations)/float64(len(plan)), time.Since(start).Round(100*time.Millisecond))
		}
	}
	if sum.LedgerEntries, err = q.LedgerPostSettledAfter(ctx, queries.LedgerPostSettledAfterParams{
		FeeBasisPoints: feeBasisPoints, After: lastReservation,
	}); err != nil {
		return err
	}
	if !demo {
		progress("  %d ledger entries in %s\n", sum.LedgerEntries, time.Since(start).Round(100*time.Millisecond))
	}
	if off != nil {
		if err := off.putBack(ctx, tx, q); err != nil {
			return err
		}
	}
	if !demo {
		progress("  done in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}

// ledgerBalanced checks that the ledger transactions of the entries after lastEntry sum to
// zero, as the balance trigger would have, and fails the seed as it would have if not.
func ledgerBalanced(ctx context.Context, q *queries.Queries, lastEntry int64) error {
	bad, err := q.LedgerUnbalancedAfter(ctx, lastEntry)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("ledger transaction %s does not balance: its entries sum to %d", bad[0].TxnID, bad[0].Total)
	}
	return nil
}

type plannedSlot struct {
	resourceID int64
	startsAt   time.Time
	capacity   int32
	reserved   int32
	price      int64
}

// planReservations places n reservations on slots with a skew: a few slots and customers get
// most of them (Zipf), as in real trade. Past slots' reservations are mostly settled, future
// ones mostly held or approved. Seats are counted into the slots so no slot is oversold.
func planReservations(rng *rand.Rand, slots []plannedSlot, n int, firstCustomer, customers int64, now time.Time, staff *int64) []queries.ReservationCopyParams {
	slotPick := rand.NewZipf(rng, 1.07, 4, uint64(len(slots)-1))
	customerPick := rand.NewZipf(rng, 1.2, 2, uint64(customers-1))
	// Zipf favours low indexes; a shuffled index spreads the favourites over time and resources.
	perm := rng.Perm(len(slots))
	out := make([]queries.ReservationCopyParams, 0, n)
	spare := 0 // slots before this one are (nearly) full: the fallback when the favourites are
	for len(out) < n {
		si := -1
		seats := int32(1 + rng.IntN(4))
		for probe, start := 0, perm[slotPick.Uint64()]; probe < 8 && si < 0; probe++ {
			if i := (start + probe*7919) % len(slots); slots[i].reserved+seats <= slots[i].capacity {
				si = i
			}
		}
		for si < 0 && spare < len(slots) {
			if slots[spare].reserved+seats <= slots[spare].capacity {
				si = spare
			} else {
				spare++
			}
		}
		if si < 0 {
			break // every slot is full
		}
		s := &slots[si]
		created := s.startsAt.Add(-time.Duration(1+rng.IntN(30*24)) * time.Hour)
		if created.After(now) {
			created = now.Add(-time.Duration(rng.IntN(72*60)) * time.Minute)
		}
		status := pickStatus(rng, s.startsAt.Before(now))
		r := queries.ReservationCopyParams{
			SlotID: int64(si), CustomerID: firstCustomer + int64(customerPick.Uint64()), Seats: seats,
			AmountCents: s.price * int64(seats), Currency: "EUR", Status: status,
			HoldExpiresAt: created.Add(15 * time.Minute), CreatedAt: created, UpdatedAt: created,
		}
		at := func(after time.Time, maxHours int) *time.Time {
			t := after.Add(time.Duration(1+rng.IntN(maxHours*60)) * time.Minute)
			if t.After(now) {
				t = now.Add(-time.Duration(rng.IntN(60)) * time.Second)
			}
			if t.Before(after) {
				t = after
			}
			return &t
		}
		switch status {
		case reservations.StatusHeld:
			// From the real clock, not the hour-rounded now: a hold must not be over already.
			r.HoldExpiresAt = time.Now().Add(time.Duration(10+rng.IntN(48*60)) * time.Minute)
		case reservations.StatusApproved, reservations.StatusSettled:
			r.ApprovedBy, r.ApprovedAt = staff, at(created, 24)
			r.UpdatedAt = *r.ApprovedAt
			if status == reservations.StatusSettled {
				r.SettledBy, r.SettledAt = staff, at(*r.ApprovedAt, 48)
				r.UpdatedAt = *r.SettledAt
			}
		case reservations.StatusRejected, reservations.StatusCancelled:
			r.ClosedBy, r.ClosedAt = staff, at(created, 48)
			r.UpdatedAt = *r.ClosedAt
		case reservations.StatusExpired:
			r.ClosedAt = &r.HoldExpiresAt
			r.UpdatedAt = r.HoldExpiresAt
		}
		switch status {
		case reservations.StatusHeld, reservations.StatusApproved, reservations.StatusSettled:
			s.reserved += seats
		}
		out = append(out, r)
	}
	return out
}

func pickStatus(rng *rand.Rand, past bool) string {
	x := rng.IntN(100)
	if past {
		switch {
		case x < 70:
			return reservations.StatusSettled
		case x < 85:
			return reservations.StatusCancelled
		case x < 93:
			return reservations.StatusRejected
		}
		return reservations.StatusExpired
	}
	switch {
	case x < 25:
		return reservations.StatusHeld
	case x < 65:
		return reservations.StatusApproved
	case x < 78:
		return reservations.StatusSettled
	case x < 88:
		return reservations.StatusCancelled
	case x < 94:
		return reservations.StatusRejected
	}
	return reservations.StatusExpired
}

var (
	firstNames = []string{"Ada", "Ben", "Chloé", "Dmitri", "Eva", "Farah", "Goran", "Hana", "Ivo", "Jana", "Kenji", "Lena",
		"Marek", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Viktor", "Wen", "Xavier", "Yara", "Zoe"}
	lastNames = []string{"Andersen", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Horvat", "Ito", "Jensen",
		"Kowalski", "Laine", "Moreau", "Novak", "Olsen", "Petrov", "Rossi", "Schmidt", "Tanaka", "Virtanen", "Weber", "Young"}
)

// copyCustomers adds n customers. after is the highest customer id so far: numbering the
// emails from it keeps them unique across runs.
func copyCustomers(ctx context.Context, q *queries.Queries, rng *rand.Rand, n int, after int64) error {
	rows := make([]queries.CustomerCopyParams, n)
	for i := range rows {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		rows[i] = queries.CustomerCopyParams{
			Name:  first + " " + last,
			Email: fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), after+int64(i)+1),
		}
	}
	_, err := q.CustomerCopy(ctx, rows)
	return err
}
