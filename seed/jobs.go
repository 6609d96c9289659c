package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally/jobs"
	"tally/queries"
	"tally/reservations"
)

// The seeded jobs span what River keeps at steady state with its default retention, which
// Tally keeps: completed and cancelled jobs for a day, discarded ones for a week. So the last
// day has jobs in every state and the six days before it only discarded ones. A margin keeps
// a worker started on the seeded database from deleting them at once.
const (
	recentSpan = 23 * time.Hour
	olderSpan  = 6 * 24 * time.Hour
)

// Shares of the partner jobs of the last day that were cancelled (the partner refused them)
// and discarded (every attempt failed), in thousandths; the rest completed.
const (
	cancelledPerMille = 25
	discardedPerMille = 20
)

// The partner the seeded jobs called: the workers' default.
const partnerURL = "http://localhost:8081"

// jobReservation is what the jobs about a reservation carry, encoded once for all of them.
type jobReservation struct {
	id                       int64
	notice, payout, metadata []byte
}

// seedFinishedJobs adds n finished River jobs of Tally's kinds on their queues: the periodic
// maintenance jobs at their rates, and customer notices and partner payouts about existing
// reservations, mostly completed (some after failed attempts), some cancelled by a refusal of
// the partner's and some discarded after their last attempt failed, with the errors the
// workers record. They go in in the order they were created, as River numbers them. A load
// at least as large as the jobs there are takes River's indexes off for the load (see
// takeOffline): River's workers on the database wait for the seed to commit.
func seedFinishedJobs(ctx context.Context, tx pgx.Tx, q *queries.Queries, rng *rand.Rand, n int, progress func(string, ...any)) (int, error) {
	start := time.Now()
	lastJob, err := q.RiverJobMaxID(ctx)
	if err != nil {
		return 0, err
	}
	var off *offline
	if int64(n) >= lastJob {
		if off, err = takeOffline(ctx, tx, q, []string{"river_job"}, nil, progress); err != nil {
			return 0, err
		}
	}
	notices, payouts, err := jobReservations(ctx, q)
	if err != nil {
		return 0, err
	}
	if len(notices) == 0 {
		return 0, fmt.Errorf("there are no reservations past their hold for the jobs to be about: seed reservations first")
	}
	progress("Seeding %d finished jobs about %d reservations…\n", n, len(notices))

	gen := newJobGenerator(rng, time.Now(), n, notices, payouts)
	// The next chunk is made while the last one is copied.
	const chunk = 100_000
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the generator if a copy fails
	chunks := make(chan []queries.RiverJobCopyParams, 1)
	go func() {
		defer close(chunks)
		for done := 0; done < n; done += chunk {
			rows := make([]queries.RiverJobCopyParams, min(chunk, n-done))
			for i := range rows {
				rows[i] = gen.job(done + i)
			}
			select {
			case chunks <- rows:
			case <-ctx.Done():
				return
			}
		}
	}()
	added := 0
	for rows := range chunks {
		if _, err := q.RiverJobCopy(ctx, rows); err != nil {
			return 0, err
		}
		added += len(rows)
		progress("  finished jobs %d / %d (%.0f%%) in %s\n", added, n, 100*float64(added)/float64(n), time.Since(start).Round(100*time.Millisecond))
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if off != nil {
		if err := off.putBack(ctx, tx, q); err != nil {
			return 0, err
		}
	}
	return added, nil
}

// jobReservations samples up to 100,000 reservations past their hold, evenly over their ids:
// the ones notices are about, and of those the settled ones, which payouts are about.
func jobReservations(ctx context.Context, q *queries.Queries) (notices, payouts []jobReservation, err error) {
	const sample = 100_000
	last, err := q.ReservationMaxID(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, err := q.SeedJobReservationList(ctx, queries.SeedJobReservationListParams{Step: max(1, last/sample), MaxRows: sample})
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		jr := jobReservation{id: r.ID, metadata: []byte(jobs.ReservationMetadata(r.ID)),
			notice: mustJSON(jobs.NotifyCustomerArgs{ReservationID: r.ID, Event: noticeEvent(r.Status), CustomerEmail: r.Email})}
		if r.Status == reservations.StatusSettled {
			jr.payout = mustJSON(jobs.PartnerPayoutArgs{ReservationID: r.ID, AmountCents: r.AmountCents - reservations.Fee(r.AmountCents, feeBasisPoints), Currency: r.Currency})
			payouts = append(payouts, jr)
		}
		notices = append(notices, jr)
	}
	return notices, payouts, nil
}

// jobArgs are a job's args with their insert options, as Tally's kinds have them.
type jobArgs interface {
	river.JobArgs
	InsertOpts() river.InsertOpts
}

// periodicJob is a maintenance job River's leader enqueues at an interval.
type dueJob struct {
	at  time.Time
	job *periodicJob
}

type periodicJob struct {
	id       string
	every    time.Duration
	args     func(at time.Time) jobArgs
	metadata []byte // as River's periodic enqueuer writes it
}

// jobGenerator makes the i-th of n finished jobs.
type jobGenerator struct {
	rng              *rand.Rand
	now              time.Time
	n, older         int // older: how many of the n are discarded jobs older than a day
	notices, payouts []jobReservation
	periodic         []periodicJob
	due              []dueJob // the last day's periodic jobs, in time order
	nextDue          int
	cfg              jobs.Config
	workers          []string
	messages         map[string]partnerMessages // by partner path
}

func newJobGenerator(rng *rand.Rand, now time.Time, n int, notices, payouts []jobReservation) *jobGenerator {
	cfg := jobs.Config{}.WithDefaults()
	g := &jobGenerator{rng: rng, now: now, n: n, notices: notices, payouts: payouts, cfg: cfg, messages: map[string]partnerMessages{
		"/notices": newPartnerMessages("/notices", "a notice needs reservation_id and event"),
		"/payouts": newPartnerMessages("/payouts", "a payout needs reservation_id, a positive amount_cents and a currency"),
	}}
	g.periodic = []periodicJob{
		{id: "expire_holds", every: cfg.ExpireEvery, args: func(time.Time) jobArgs { return jobs.ExpireHoldsArgs{} }},
		{id: "purge", every: cfg.PurgeEvery, args: func(time.Time) jobArgs { return jobs.PurgeArgs{} }},
		{id: "settlement_report", every: 24 * time.Hour, args: func(at time.Time) jobArgs {
			return jobs.SettlementReportArgs{Day: at.UTC().AddDate(0, 0, -1).Format(time.DateOnly)}
		}},
	}
	for i, p := range g.periodic {
		g.periodic[i].metadata = mustJSON(map[string]any{"periodic": true, "river:periodic_job_id": p.id})
	}
	// The day's jobs arrive at a rate such that the week's discarded ones and the day's make n.
	perDay := float64(n) / (recentSpan.Hours()/24 + olderSpan.Hours()/24*discardedPerMille/1000)
	g.older = int(float64(n) - perDay*recentSpan.Hours()/24)
	g.due = g.schedule(n - g.older)
	// Two worker processes, started before the oldest job, named as River names its clients.
	started := now.Add(-recentSpan - olderSpan - time.Hour).UTC()
	for _, host := range []string{"tally-worker-1", "tally-worker-2"} {
		g.workers = append(g.workers, host+"_"+started.Format("2006_01_02T15_04_05_000000"))
		started = started.Add(37 * time.Second)
	}
	return g
}

// schedule places the last day's periodic jobs at their intervals (the settlement report
// daily at ten past midnight, UTC), expiries thinned out if they would be more than half of
// the day's jobs.
func (g *jobGenerator) schedule(recent int) []dueJob {
	from := g.now.Add(-recentSpan)
	var due []dueJob
	for i := range g.periodic {
		p := &g.periodic[i]
		every, first := p.every, from.Truncate(p.every).Add(p.every)
		switch p.id {
		case "expire_holds":
			every = max(every, recentSpan/time.Duration(max(1, recent/2)))
			first = from.Truncate(every).Add(every)
		case "settlement_report":
			first = from.UTC().Truncate(24 * time.Hour).Add(10 * time.Minute)
		}
		for at := first; at.Before(g.now); at = at.Add(every) {
			if !at.Before(from) {
				due = append(due, dueJob{at: at, job: p})
			}
		}
	}
	slices.SortFunc(due, func(a, b dueJob) int { return a.at.Compare(b.at) })
	return due
}

// job makes the i-th job: the older discarded ones first, then the last day's, each created a
// little after the one before.
func (g *jobGenerator) job(i int) queries.RiverJobCopyParams {
	var created time.Time
	state := rivertype.JobStateCompleted
	if i < g.older {
		created = g.now.Add(-recentSpan - olderSpan + time.Duration((float64(i)+g.rng.Float64())/float64(g.older)*float64(olderSpan)))
		state = rivertype.JobStateDiscarded
	} else {
		recent := g.n - g.older
		created = g.now.Add(-recentSpan + time.Duration((float64(i-g.older)+g.rng.Float64())/float64(recent)*float64(recentSpan)))
		if g.nextDue < len(g.due) && !g.due[g.nextDue].at.After(created) {
			g.nextDue++
			return g.periodicJob(g.due[g.nextDue-1])
		}
		switch x := g.rng.IntN(1000); {
		case x < cancelledPerMille:
			state = rivertype.JobStateCancelled
		case x < cancelledPerMille+discardedPerMille:
			state = rivertype.JobStateDiscarded
		}
	}
	return g.partnerJob(created, state)
}

// periodicJob is a maintenance job that completed at its first attempt.
func (g *jobGenerator) periodicJob(d dueJob) queries.RiverJobCopyParams {
	p, created := d.job, d.at
	args := p.args(created)
	opts := args.InsertOpts()
	took := time.Duration(2+g.rng.IntN(30)) * time.Millisecond
	if p.id == "settlement_report" {
		took = time.Duration(200+g.rng.IntN(1800)) * time.Millisecond
	}
	attempted := created.Add(time.Duration(1+g.rng.IntN(20)) * time.Millisecond)
	finalized := attempted.Add(took)
	return queries.RiverJobCopyParams{
		State: queries.RiverJobStateCompleted, Attempt: 1, MaxAttempts: int16(maxAttempts(opts)),
		AttemptedAt: &attempted, CreatedAt: created, FinalizedAt: &finalized, ScheduledAt: created, Priority: 1,
		Args: mustJSON(args), AttemptedBy: []string{g.worker()}, Errors: nil,
		Kind: args.Kind(), Metadata: p.metadata, Queue: opts.Queue,
	}
}

// partnerJob is a notice or a payout about a reservation that finished in state, with the
// attempts that took and the errors of the failed ones.
func (g *jobGenerator) partnerJob(created time.Time, state rivertype.JobState) queries.RiverJobCopyParams {
	var kind jobArgs = jobs.NotifyCustomerArgs{}
	r := g.notices[g.rng.IntN(len(g.notices))]
	args, path := r.notice, "/notices"
	if len(g.payouts) > 0 && g.rng.IntN(100) < 38 {
		kind = jobs.PartnerPayoutArgs{}
		r = g.payouts[g.rng.IntN(len(g.payouts))]
		args, path = r.payout, "/payouts"
	}
	opts := kind.InsertOpts()
	maxAtt := maxAttempts(opts)

	// How many attempts failed with an error worth retrying before the last one.
	attempts := 1
	switch state {
	case rivertype.JobStateDiscarded:
		attempts = maxAtt
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled:
		switch x := g.rng.IntN(100); {
		case x < 2:
			attempts = 3
		case x < 8:
			attempts = 2
		}
	}
	type failed struct {
		at      time.Time
		attempt int
		message []byte
	}
	fails := make([]failed, 0, attempts)
	by := make([]string, 0, attempts)
	at := created.Add(time.Duration(1+g.rng.IntN(40)) * time.Millisecond)
	var attempted, finalized time.Time
	for a := 1; a <= attempts; a++ {
		attempted = at
		by = append(by, g.worker())
		last := a == attempts
		took := time.Duration(15+g.rng.ExpFloat64()*40) * time.Millisecond
		var msg []byte
		switch {
		case last && state == rivertype.JobStateCompleted:
		case last && state == rivertype.JobStateCancelled:
			msg = g.refusal(path)
		default:
			msg, took = g.failure(path, took)
		}
		finalized = attempted.Add(took)
		if msg != nil {
			fails = append(fails, failed{finalized, a, msg})
		}
		// River's default backoff: attempt⁴ seconds, give or take a tenth.
		at = finalized.Add(time.Duration(float64(time.Duration(a*a*a*a)*time.Second) * (0.9 + 0.2*g.rng.Float64())))
	}
	// A discarded job's retries took hours: it was created that much before it ended, at its
	// place in the sequence. Any other whose retries would end in the future ended just now.
	shift := max(0, finalized.Sub(g.now.Add(-time.Second)))
	if state == rivertype.JobStateDiscarded {
		shift = finalized.Sub(created)
	}
	created, attempted, finalized = created.Add(-shift), attempted.Add(-shift), finalized.Add(-shift)
	var errs [][]byte
	for _, f := range fails {
		errs = append(errs, attemptError(f.at.Add(-shift), f.attempt, f.message))
	}
	return queries.RiverJobCopyParams{
		State: queries.RiverJobState(state), Attempt: int16(attempts), MaxAttempts: int16(maxAtt),
		AttemptedAt: &attempted, CreatedAt: created, FinalizedAt: &finalized, ScheduledAt: created, Priority: 1,
		Args: args, AttemptedBy: by, Errors: errs,
		Kind: kind.Kind(), Metadata: r.metadata, Queue: opts.Queue,
	}
}

// failure is an error worth retrying, as the partner client reports it (JSON-encoded), and
// how long the attempt took.
func (g *jobGenerator) failure(path string, took time.Duration) ([]byte, time.Duration) {
	m := g.messages[path]
	switch x := g.rng.IntN(100); {
	case x < 40:
		return m.outage, took
	case x < 65:
		return m.injected, took
	case x < 90:
		return m.timeout, g.cfg.PartnerTimeout
	}
	return m.refused, time.Duration(1+g.rng.IntN(3)) * time.Millisecond
}

// refusal is the partner's refusal that cancels a job (JSON-encoded).
func (g *jobGenerator) refusal(path string) []byte {
	m := g.messages[path]
	if g.rng.IntN(10) > 0 {
		return m.closed
	}
	return m.invalid
}

// partnerMessages are the errors of a partner path, encoded once.
type partnerMessages struct {
	outage, injected, timeout, refused, closed, invalid []byte
}

func newPartnerMessages(path, invalid string) partnerMessages {
	return partnerMessages{
		outage:   mustJSON(fmt.Sprintf("partner %s: 503 partner outage", path)),
		injected: mustJSON(fmt.Sprintf("partner %s: 503 injected error", path)),
		timeout:  mustJSON(fmt.Sprintf("partner %s: Post %q: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", path, partnerURL+path)),
		refused:  mustJSON(fmt.Sprintf("partner %s: Post %q: dial tcp 127.0.0.1:8081: connect: connection refused", path, partnerURL+path)),
		closed:   mustJSON("partner refused the request: 422 refused: the partner account is closed"),
		invalid:  mustJSON("partner refused the request: 422 " + invalid),
	}
}

// attemptError is River's rivertype.AttemptError as JSON, written directly: encoding a
// million of them by reflection took longer than copying them.
func attemptError(at time.Time, attempt int, message []byte) []byte {
	b := make([]byte, 0, 64+len(message))
	b = append(b, `{"at":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","attempt":`...)
	b = strconv.AppendInt(b, int64(attempt), 10)
	b = append(b, `,"error":`...)
	b = append(b, message...)
	return append(b, `,"trace":""}`...)
}

func (g *jobGenerator) worker() string { return g.workers[g.rng.IntN(len(g.workers))] }

// noticeEvent is the notice a reservation in status was last sent.
func noticeEvent(status string) string {
	switch status {
	case reservations.StatusRejected:
		return jobs.EventRejected
	case reservations.StatusCancelled:
		return jobs.EventCancelled
	case reservations.StatusExpired:
		return jobs.EventExpired
	}
	return jobs.EventApproved
}

// maxAttempts is River's default unless the kind sets its own.
func maxAttempts(opts river.InsertOpts) int {
	if opts.MaxAttempts > 0 {
		return opts.MaxAttempts
	}
	return river.MaxAttemptsDefault
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only values of this package's making, which always encode
	}
	return b
}
