package operations

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/jobs"
	"tally/queries"
	"tally/reservations"
)

// DefaultCountCap is where a count of jobs stops by default: above it, a count says "more
// than" or, for a whole state and queue, gives the planner's estimate ("about").
const DefaultCountCap = 10_000

// Count is a number of jobs as far as it was counted: exactly N, at least N (AtLeast), or
// about N (About, an estimate from the table's statistics).
type Count struct {
	N       int64
	AtLeast bool
	About   bool
}

func (c Count) add(d Count) Count {
	c.N += d.N
	c.AtLeast = c.AtLeast || d.AtLeast
	c.About = c.About || d.About
	if c.AtLeast {
		c.About = false // "more than" is the weaker claim, and the true one
	}
	return c
}

// Kinds are the job kinds Tally has, for the filters.
var Kinds = []string{
	jobs.PartnerPayoutArgs{}.Kind(), jobs.NotifyCustomerArgs{}.Kind(), jobs.ExpireHoldsArgs{}.Kind(),
	jobs.SettlementReportArgs{}.Kind(), jobs.PurgeArgs{}.Kind(),
}

// Page is one page of a list of jobs, newest first. Next is the cursor of the page after it
// (River's, opaque), empty on the last page.
type Page struct {
	Jobs []Job
	Next string
}

// MaxPage bounds a page of jobs.
const MaxPage = 200

// List returns the jobs f matches, newest first, limit of them after the cursor after (a
// Page.Next, or "" for the first page). One state is listed by that state's time (a
// discarded job by when it was discarded, a retryable one by its next attempt); several by
// id, the order they were made in.
func (s *Service) List(ctx context.Context, f Filter, after string, limit int) (Page, error) {
	if err := f.Validate(); err != nil {
		return Page{}, err
	}
	limit = min(max(limit, 1), MaxPage)
	p := f.listParams().First(limit)
	if len(f.States) == 1 {
		p = p.OrderBy(river.JobListOrderByTime, river.SortOrderDesc)
	} else {
		p = p.OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	}
	if after != "" {
		var cursor river.JobListCursor
		if len(after) > 1000 || cursor.UnmarshalText([]byte(after)) != nil {
			return Page{}, tally.Errorf(tally.EINVALID, "The page address is not valid: go back to the first page.")
		}
		p = p.After(&cursor)
	}
	var res *river.JobListResult
	err := s.read(ctx, func(_ *queries.Queries, tx pgx.Tx) error {
		var err error
		res, err = s.river.JobListTx(ctx, tx, p)
		return err
	})
	if err != nil {
		return Page{}, err
	}
	var page Page
	now := time.Now()
	for _, r := range res.Jobs {
		j := jobOf(r)
		s.stuck(&j, now)
		page.Jobs = append(page.Jobs, j)
	}
	if len(res.Jobs) == limit && res.LastCursor != nil {
		text, err := res.LastCursor.MarshalText()
		if err != nil {
			return page, err
		}
		page.Next = string(text)
	}
	return page, nil
}

// Get returns one job, or ENOTFOUND.
func (s *Service) Get(ctx context.Context, id int64) (Job, error) {
	var r *rivertype.JobRow
	err := s.read(ctx, func(_ *queries.Queries, tx pgx.Tx) error {
		var err error
		r, err = s.river.JobGetTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return Job{}, notFound(err, "There is no job %d: it never existed, or it was deleted (River deletes finished jobs after a while).", id)
	}
	j := jobOf(r)
	s.stuck(&j, time.Now())
	return j, nil
}

// Count counts, up to limit, the jobs f matches: the preview of an action on a filter.
func (s *Service) Count(ctx context.Context, f Filter, limit int) (Count, error) {
	if err := f.Validate(); err != nil {
		return Count{}, err
	}
	var n int64
	err := s.read(ctx, func(q *queries.Queries, _ pgx.Tx) error {
		var err error
		n, err = q.RiverJobCountMatching(ctx, f.countParams(limit+1))
		return err
	})
	if err != nil {
		return Count{}, err
	}
	if n > int64(limit) {
		return Count{N: int64(limit), AtLeast: true}, nil
	}
	return Count{N: n}, nil
}

// Queue is one queue at a glance.
type Queue struct {
	Name string
	// Known is true once a worker has run the queue (River keeps a row for it then): only a
	// known queue can be paused.
	Known bool
	// PausedAt is when it was paused; nil while it runs.
	PausedAt *time.Time
	// Counts are its jobs per state.
	Counts map[string]Count
	// Waiting is true when it has available jobs; Lag is then how long the oldest has waited.
	Waiting bool
	Lag     time.Duration
	// SeenAt is when a worker last reported running the queue (River's updated_at).
	SeenAt time.Time
}

// Paused reports whether the queue is paused.
func (q Queue) Paused() bool { return q.PausedAt != nil }

// Overview is the jobs console's first screen.
type Overview struct {
	At     time.Time
	Queues []Queue
	// Totals are the counts per state over every queue.
	Totals map[string]Count
	// Stuck are the running jobs past their timeout (the first MaxStuck of them).
	Stuck []Job
}

// MaxStuck bounds the stuck jobs the overview lists.
const MaxStuck = 50

// Overview counts the jobs per state and queue, with each queue's lag and pause, and lists
// the stuck jobs. It stays cheap on a large table: the counts of a state and queue stop at
// CountCap, and a state the statistics put above CountCap (a million completed jobs) is
// estimated rather than counted.
func (s *Service) Overview(ctx context.Context) (Overview, error) {
	var o Overview
	err := s.read(ctx, func(q *queries.Queries, tx pgx.Tx) error {
		var err error
		o, err = s.overview(ctx, q, tx)
		return err
	})
	return o, err
}

func (s *Service) overview(ctx context.Context, q *queries.Queries, tx pgx.Tx) (Overview, error) {
	o := Overview{At: time.Now(), Totals: map[string]Count{}}
	counts, err := s.counts(ctx, q)
	if err != nil {
		return o, err
	}
	known, err := s.river.QueueListTx(ctx, tx, river.NewQueueListParams().First(100))
	if err != nil {
		return o, err
	}
	byName := map[string]*Queue{}
	queue := func(name string) *Queue {
		if q, ok := byName[name]; ok {
			return q
		}
		q := &Queue{Name: name, Counts: map[string]Count{}}
		byName[name] = q
		return q
	}
	for _, name := range []string{jobs.QueueDefault, jobs.QueuePartner, jobs.QueueMaintenance} {
		queue(name)
	}
	for _, k := range known.Queues {
		q := queue(k.Name)
		q.Known, q.PausedAt, q.SeenAt = true, k.PausedAt, k.UpdatedAt
	}
	for key, c := range counts {
		queue(key.queue).Counts[key.state] = c
		o.Totals[key.state] = o.Totals[key.state].add(c)
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	oldest, err := q.RiverJobOldestAvailable(ctx, names)
	if err != nil {
		return o, err
	}
	for _, r := range oldest {
		if r.Waiting {
			q := queue(r.Queue)
			q.Waiting, q.Lag = true, max(o.At.Sub(r.Oldest), 0)
		}
	}
	for _, name := range names {
		o.Queues = append(o.Queues, *byName[name])
	}
	o.Stuck, err = s.stuckIn(ctx, tx, MaxStuck)
	return o, err
}

type stateQueue struct{ state, queue string }

// counts are the jobs per state and queue: exact up to Config.CountCap; above it, the
// estimate when the statistics have one, else "more than" the cap. The finished states the
// statistics put above the cap are not counted at all.
func (s *Service) counts(ctx context.Context, q *queries.Queries) (map[stateQueue]Count, error) {
	limit := int64(s.cfg.CountCap)
	estimates, err := q.RiverJobEstimateByStateQueue(ctx)
	if err != nil {
		return nil, err
	}
	est := map[stateQueue]int64{}
	perState := map[string]int64{}
	for _, e := range estimates {
		est[stateQueue{e.State, e.Queue}] = e.Jobs
		perState[e.State] += e.Jobs
	}
	out := map[stateQueue]Count{}
	var counted []string
	for _, st := range States {
		if finished(st) && perState[st] > limit {
			for key, n := range est {
				if key.state == st && n > 0 {
					out[key] = Count{N: n, About: true}
				}
			}
			continue
		}
		counted = append(counted, st)
	}
	rows, err := q.RiverJobCountByStateQueue(ctx, queries.RiverJobCountByStateQueueParams{States: counted, Cap: int32(limit + 1)})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		key := stateQueue{r.State, r.Queue}
		switch {
		case r.Jobs <= limit:
			out[key] = Count{N: r.Jobs}
		case est[key] > limit:
			out[key] = Count{N: est[key], About: true}
		default:
			out[key] = Count{N: limit, AtLeast: true}
		}
	}
	return out, nil
}

// Stuck lists up to limit running jobs past their kind's timeout and StuckMargin, the
// longest running first. Their worker should have cancelled them at the timeout: either the
// work ignores its cancellation, or the worker is gone (killed, its host lost). River's client
// cannot retry a running job (JobRetry leaves running jobs alone); its rescuer takes them back
// at Stuck.RescueAt. What an operator can do at once is cancel one (JobCancel): a live worker
// stops it, and the rescuer finishes a dead worker's job as cancelled instead of running it
// again.
func (s *Service) Stuck(ctx context.Context, limit int) ([]Job, error) {
	var out []Job
	err := s.read(ctx, func(_ *queries.Queries, tx pgx.Tx) error {
		var err error
		out, err = s.stuckIn(ctx, tx, limit)
		return err
	})
	return out, err
}

func (s *Service) stuckIn(ctx context.Context, tx pgx.Tx, limit int) ([]Job, error) {
	now := time.Now()
	partnerTimeout := s.timeoutOf(jobs.PartnerPayoutArgs{}.Kind())
	p := river.NewJobListParams().States(rivertype.JobStateRunning).
		Where(`((kind = ANY(@ops_partner_kinds::text[]) AND attempted_at < @ops_partner_horizon::timestamptz)
			OR (kind <> ALL(@ops_partner_kinds::text[]) AND attempted_at < @ops_other_horizon::timestamptz))`, river.NamedArgs{
			"ops_partner_kinds":   partnerKinds,
			"ops_partner_horizon": now.Add(-partnerTimeout - s.cfg.StuckMargin),
			"ops_other_horizon":   now.Add(-s.cfg.Workers.JobTimeout - s.cfg.StuckMargin),
		}).
		OrderBy(river.JobListOrderByTime, river.SortOrderAsc).First(min(max(limit, 1), MaxPage))
	res, err := s.river.JobListTx(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	out := make([]Job, 0, len(res.Jobs))
	for _, r := range res.Jobs {
		j := jobOf(r)
		s.stuck(&j, now)
		out = append(out, j)
	}
	return out, nil
}

// Money is an amount in one currency.
type Money struct {
	Cents    int64
	Currency string
}

// String writes it as the rest of Tally does: "EUR 312.40".
func (m Money) String() string { return reservations.Money(m.Cents, m.Currency) }

// FailureGroup is the discarded and retryable jobs of one kind failing with one error,
// ids, numbers and addresses masked.
type FailureGroup struct {
	Kind string
	// Pattern is the masked error; Example one job's error as it is.
	Pattern, Example string
	Jobs, Discarded  int64
	Retryable        int64
	// FirstSeen and LastSeen are the times of its first and latest recorded failures.
	FirstSeen, LastSeen time.Time
	// AtStake are the payouts' amounts, per currency; empty for other kinds.
	AtStake []Money
	// LatestID is its newest job, to look at one.
	LatestID int64
}

// Filter is the filter that lists the group's jobs, and that an action on the group takes.
func (g FailureGroup) Filter() Filter {
	return Filter{States: slices.Clone(FailedStates), Kind: g.Kind, Pattern: g.Pattern}
}

// MaxGroups bounds the failure groups listed.
const MaxGroups = 200

// maxFailureErrors bounds the distinct errors the failure groups are made of (the most
// common first): a group's counts leave out jobs whose error is rarer than those.
const maxFailureErrors = 50_000

// FailureGroups groups the discarded and retryable jobs by kind and masked last error, the
// largest group first.
func (s *Service) FailureGroups(ctx context.Context) ([]FailureGroup, error) {
	var rows []queries.RiverJobFailureGroupsRow
	patterns := map[string]string{}
	err := s.read(ctx, func(q *queries.Queries, _ pgx.Tx) error {
		var err error
		rows, err = q.RiverJobFailureGroups(ctx, queries.RiverJobFailureGroupsParams{
			PayoutKind: jobs.PartnerPayoutArgs{}.Kind(), MaxRows: maxFailureErrors,
		})
		if err != nil {
			return err
		}
		errs := make([]string, 0, len(rows))
		for _, r := range rows {
			errs = append(errs, r.Error)
		}
		patterns, err = s.masks.patterns(ctx, q, errs)
		return err
	})
	if err != nil {
		return nil, err
	}
	type key struct{ kind, pattern string }
	var order []key
	groups := map[key]*FailureGroup{}
	atStake := map[key]map[string]int64{}
	for _, r := range rows {
		k := key{r.Kind, patterns[r.Error]}
		g, ok := groups[k]
		if !ok {
			// The rows come most common first: the example is the group's most common error.
			g = &FailureGroup{Kind: r.Kind, Pattern: k.pattern, Example: r.Error, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen}
			groups[k] = g
			atStake[k] = map[string]int64{}
			order = append(order, k)
		}
		g.Jobs += r.Jobs
		g.Discarded += r.Discarded
		g.Retryable += r.Retryable
		if r.FirstSeen.Before(g.FirstSeen) {
			g.FirstSeen = r.FirstSeen
		}
		if r.LastSeen.After(g.LastSeen) {
			g.LastSeen = r.LastSeen
		}
		g.LatestID = max(g.LatestID, r.LatestID)
		if r.AmountCents != 0 && r.Currency != "" {
			atStake[k][r.Currency] += r.AmountCents
		}
	}
	out := make([]FailureGroup, 0, len(order))
	for _, k := range order {
		g := groups[k]
		for currency, cents := range atStake[k] {
			g.AtStake = append(g.AtStake, Money{Cents: cents, Currency: currency})
		}
		sort.Slice(g.AtStake, func(i, j int) bool { return g.AtStake[i].Currency < g.AtStake[j].Currency })
		out = append(out, *g)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Jobs != out[j].Jobs {
			return out[i].Jobs > out[j].Jobs
		}
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Pattern < out[j].Pattern
	})
	if len(out) > MaxGroups {
		out = out[:MaxGroups]
	}
	return out, nil
}

// maxMasks bounds the errors whose patterns a process keeps.
const maxMasks = 100_000

// maskMemo keeps the pattern of each error message the failure groups met: job_error_pattern
// is immutable, a message's pattern never changes, and masking thousands of distinct
// messages (each payout's error names its reservation) cost more than the rest of the page.
type maskMemo struct {
	mu      sync.Mutex
	pattern map[string]string
}

// patterns returns the pattern of each of errs, masking through q only those not met before.
func (m *maskMemo) patterns(ctx context.Context, q *queries.Queries, errs []string) (map[string]string, error) {
	out := make(map[string]string, len(errs))
	var unknown []string
	m.mu.Lock()
	for _, e := range errs {
		if p, ok := m.pattern[e]; ok {
			out[e] = p
		} else {
			unknown = append(unknown, e)
		}
	}
	m.mu.Unlock()
	if len(unknown) == 0 {
		return out, nil
	}
	rows, err := q.RiverJobErrorPatterns(ctx, unknown)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pattern == nil || len(m.pattern)+len(rows) > maxMasks {
		m.pattern = map[string]string{}
	}
	for _, r := range rows {
		out[r.Error] = r.Pattern
		if len(r.Error) <= 4096 { // a huge message is rare, and not worth keeping
			m.pattern[r.Error] = r.Pattern
		}
	}
	return out, nil
}
