package operations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/audit"
	"tally/jobs"
	"tally/queries"
	"tally/reservations"
)

// Action is what an operator does to jobs.
type Action string

// The actions on jobs.
const (
	ActionRetry  Action = "retry"
	ActionCancel Action = "cancel"
	ActionDelete Action = "delete"
)

// ParseAction reads an action's name.
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case ActionRetry, ActionCancel, ActionDelete:
		return a, nil
	}
	return "", tally.Errorf(tally.EINVALID, "Unknown action %q: retry, cancel or delete.", s)
}

// Done is the action's past tense: "retried".
func (a Action) Done() string {
	switch a {
	case ActionRetry:
		return "retried"
	case ActionCancel:
		return "cancelled"
	}
	return "deleted"
}

// Verb is the action as a button says it: "Retry".
func (a Action) Verb() string {
	switch a {
	case ActionRetry:
		return "Retry"
	case ActionCancel:
		return "Cancel"
	}
	return "Delete"
}

// Why a job was left alone, as the summary groups them ("2 skipped: running").
const (
	SkipNotFound  = "not found"
	SkipRunning   = "running"
	SkipWaiting   = "already waiting to run"
	SkipCompleted = "completed"
	SkipFinished  = "already finished"
	SkipPending   = "pending"
	SkipNotDue    = "no longer due"
	SkipChanged   = "changed meanwhile"
)

// Item is what an action did to one job.
type Item struct {
	ID   int64
	Kind string
	// Done is true when the action was taken; Requested when a running job was asked to
	// stop (a cancel); otherwise Skip says why it was left alone and Detail says it in full.
	Done      bool
	Requested bool
	Skip      string
	Detail    string
}

// Outcome is what an action did, in all and job by job.
type Outcome struct {
	Action Action
	// Done counts the jobs acted on; Requested the running jobs asked to stop (cancel);
	// Skipped the jobs left alone, by reason.
	Done      int
	Requested int
	Skipped   map[string]int
	// Items are the jobs reached, in the order they were (at most MaxItems of them; the
	// counts are of all).
	Items []Item
	// Last is the last job id an action on a filter reached: its next batch starts after it.
	// More is true when that batch was full, so more jobs may match.
	Last int64
	More bool
}

// MaxItems bounds the items an outcome keeps.
const MaxItems = 1_000

// Reached is how many jobs the action reached: acted on, asked to stop or left alone.
func (o Outcome) Reached() int {
	n := o.Done + o.Requested
	for _, k := range o.Skipped {
		n += k
	}
	return n
}

func (o *Outcome) add(it Item) {
	switch {
	case it.Done:
		o.Done++
	case it.Requested:
		o.Requested++
	default:
		if o.Skipped == nil {
			o.Skipped = map[string]int{}
		}
		o.Skipped[it.Skip]++
	}
	if len(o.Items) < MaxItems {
		o.Items = append(o.Items, it)
	}
}

// Merge adds the counts of b (a later batch of the same action) to o.
func (o *Outcome) Merge(b Outcome) {
	o.Done += b.Done
	o.Requested += b.Requested
	for k, n := range b.Skipped {
		if o.Skipped == nil {
			o.Skipped = map[string]int{}
		}
		o.Skipped[k] += n
	}
	for _, it := range b.Items {
		if len(o.Items) >= MaxItems {
			break
		}
		o.Items = append(o.Items, it)
	}
	o.Last, o.More = b.Last, b.More
}

// Summary says what happened in one line: "48 retried, 2 skipped: running".
func (o Outcome) Summary() string {
	parts := []string{fmt.Sprintf("%d %s", o.Done, o.Action.Done())}
	if o.Requested > 0 {
		parts = append(parts, fmt.Sprintf("%d running asked to stop", o.Requested))
	}
	reasons := make([]string, 0, len(o.Skipped))
	for r := range o.Skipped {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		if o.Skipped[a] != o.Skipped[b] {
			return o.Skipped[b] - o.Skipped[a]
		}
		return strings.Compare(a, b)
	})
	for _, r := range reasons {
		parts = append(parts, fmt.Sprintf("%d skipped: %s", o.Skipped[r], r))
	}
	return strings.Join(parts, ", ")
}

// CheckReason refuses a reason that is not short text.
func CheckReason(reason string) error {
	if !utf8.ValidString(reason) || strings.ContainsRune(reason, 0) {
		return tally.Errorf(tally.EINVALID, "The reason is not text.")
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return tally.Errorf(tally.EINVALID, "The reason is too long (%d characters at most).", MaxReason)
	}
	return nil
}

// Act takes action on the jobs ids (one job, or a selection), BatchSize jobs per
// transaction. Each job is checked in the transaction that acts on it: one that is unknown,
// or whose state no longer allows the action (it started running, it completed, another
// operator got there first), or a retry whose reservation no longer needs it, is left alone
// and said why; the others are acted on, each with its audit row.
func (s *Service) Act(ctx context.Context, actor Actor, action Action, ids []int64, reason string) (Outcome, error) {
	out := Outcome{Action: action}
	if err := CheckReason(reason); err != nil {
		return out, err
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 || ids[0] <= 0 {
		return out, tally.Errorf(tally.EINVALID, "Select at least one job.")
	}
	if len(ids) > MaxSelection {
		return out, tally.Errorf(tally.EINVALID, "Select at most %d jobs at once; act on a filter for more.", MaxSelection)
	}
	for start := 0; start < len(ids); start += s.cfg.BatchSize {
		batch := ids[start:min(start+s.cfg.BatchSize, len(ids))]
		var items []Item
		err := s.inTx(ctx, 5, func(tx pgx.Tx) error {
			res, err := s.river.JobListTx(ctx, tx, river.NewJobListParams().IDs(batch...).First(len(batch)))
			if err != nil {
				return err
			}
			found := map[int64]*rivertype.JobRow{}
			for _, r := range res.Jobs {
				found[r.ID] = r
			}
			var rows []*rivertype.JobRow
			for _, id := range batch {
				if r, ok := found[id]; ok {
					rows = append(rows, r)
				}
			}
			acted, err := s.actOn(ctx, tx, actor, action, rows, reason, nil)
			if err != nil {
				return err
			}
			items = items[:0]
			for _, id := range batch {
				if it, ok := acted[id]; ok {
					items = append(items, it)
				} else {
					items = append(items, Item{ID: id, Skip: SkipNotFound, Detail: fmt.Sprintf("Job %d: not found (deleted, or never existed).", id)})
				}
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		for _, it := range items {
			out.add(it)
		}
	}
	return out, nil
}

// ActOnFilter takes action on one batch of the jobs f matches: those after job id after, up
// to BatchSize of them, and never beyond Cap jobs in all (reached is how many earlier batches
// of this action reached). Jobs are taken oldest id first, so that the jobs an action leaves
// alone are not met again by its next batch. Outcome.Last is where the next batch starts and
// Outcome.More whether there may be one. When the first batch finds nothing, the filter
// matches no job any more: that is an ECONFLICT, and nothing was changed.
func (s *Service) ActOnFilter(ctx context.Context, actor Actor, action Action, f Filter, after int64, reached int, reason string) (Outcome, error) {
	out := Outcome{Action: action, Last: after}
	if err := f.Validate(); err != nil {
		return out, err
	}
	if err := CheckReason(reason); err != nil {
		return out, err
	}
	if after < 0 || reached < 0 {
		return out, tally.Errorf(tally.EINVALID, "The progress of this action is not valid: start it again.")
	}
	size := min(s.cfg.BatchSize, s.cfg.Cap-reached)
	if size <= 0 {
		return out, nil // the cap is reached: More stays false
	}
	var items []Item
	var last int64
	var full bool
	err := s.inTx(ctx, 5, func(tx pgx.Tx) error {
		p := f.listParams().OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(size)
		if after > 0 {
			p = p.After(river.JobListCursorFromJob(&rivertype.JobRow{ID: after}))
		}
		res, err := s.river.JobListTx(ctx, tx, p)
		if err != nil {
			return err
		}
		if len(res.Jobs) == 0 {
			last, full, items = after, false, nil
			return nil
		}
		acted, err := s.actOn(ctx, tx, actor, action, res.Jobs, reason, &f)
		if err != nil {
			return err
		}
		items = items[:0]
		for _, r := range res.Jobs {
			items = append(items, acted[r.ID])
		}
		last, full = res.Jobs[len(res.Jobs)-1].ID, len(res.Jobs) == size
		return nil
	})
	if err != nil {
		return out, err
	}
	if len(items) == 0 && after == 0 {
		return out, tally.Errorf(tally.ECONFLICT, "No job matches this filter any more: nothing was changed.")
	}
	for _, it := range items {
		out.add(it)
	}
	out.Last, out.More = last, full && reached+len(items) < s.cfg.Cap
	return out, nil
}

// ActOnFilterAll runs ActOnFilter batch after batch until no job is left or Cap is reached,
// and returns the whole outcome: for callers with no page to show progress in.
func (s *Service) ActOnFilterAll(ctx context.Context, actor Actor, action Action, f Filter, reason string) (Outcome, error) {
	out := Outcome{Action: action}
	for {
		b, err := s.ActOnFilter(ctx, actor, action, f, out.Last, out.Reached(), reason)
		if err != nil {
			if out.Reached() > 0 {
				// Earlier batches are committed: say what they did, and what stopped the rest.
				return out, err
			}
			return b, err
		}
		out.Merge(b)
		if !b.More {
			return out, nil
		}
	}
}

// actOn takes action on rows in tx, each job checked first, and returns what happened to
// each by id. f, for an action on a filter, is what a delete must still match when it
// deletes (River's JobDeleteMany with the filter's Where).
func (s *Service) actOn(ctx context.Context, tx pgx.Tx, actor Actor, action Action, rows []*rivertype.JobRow, reason string, f *Filter) (map[int64]Item, error) {
	out := make(map[int64]Item, len(rows))
	var due map[int64]string
	if action == ActionRetry {
		var err error
		if due, err = s.notDue(ctx, tx, rows); err != nil {
			return nil, err
		}
	}
	var deletable []*rivertype.JobRow
	for _, r := range rows {
		it := Item{ID: r.ID, Kind: r.Kind}
		if skip, detail := refusal(action, r, due); skip != "" {
			it.Skip, it.Detail = skip, detail
			out[r.ID] = it
			continue
		}
		var (
			after *rivertype.JobRow
			err   error
		)
		switch action {
		case ActionRetry:
			after, err = s.river.JobRetryTx(ctx, tx, r.ID)
		case ActionCancel:
			after, err = s.river.JobCancelTx(ctx, tx, r.ID)
		case ActionDelete:
			if f != nil {
				deletable = append(deletable, r)
				continue
			}
			after, err = s.river.JobDeleteTx(ctx, tx, r.ID)
		}
		switch {
		case errors.Is(err, rivertype.ErrNotFound):
			it.Skip, it.Detail = SkipNotFound, fmt.Sprintf("Job %d: deleted meanwhile.", r.ID)
		case errors.Is(err, rivertype.ErrJobRunning):
			it.Skip, it.Detail = SkipRunning, fmt.Sprintf("Job %d: running (it started meanwhile).", r.ID)
		case err != nil:
			return nil, err
		case action == ActionCancel && after.State == rivertype.JobStateRunning:
			it.Requested, it.Detail = true, fmt.Sprintf("Job %d: running; its worker is asked to stop it.", r.ID)
		default:
			it.Done, it.Detail = true, fmt.Sprintf("Job %d: %s.", r.ID, action.Done())
		}
		if it.Done || it.Requested {
			if err := s.record(ctx, tx, actor, action, r, after, reason, len(rows)); err != nil {
				return nil, err
			}
		}
		out[r.ID] = it
	}
	if len(deletable) > 0 {
		ids := make([]int64, len(deletable))
		for i, r := range deletable {
			ids[i] = r.ID
		}
		res, err := s.river.JobDeleteManyTx(ctx, tx, f.deleteParams(ids))
		if err != nil {
			return nil, err
		}
		deleted := map[int64]bool{}
		for _, r := range res.Jobs {
			deleted[r.ID] = true
		}
		for _, r := range deletable {
			it := Item{ID: r.ID, Kind: r.Kind}
			if deleted[r.ID] {
				it.Done, it.Detail = true, fmt.Sprintf("Job %d: deleted.", r.ID)
				if err := s.record(ctx, tx, actor, action, r, nil, reason, len(rows)); err != nil {
					return nil, err
				}
			} else {
				it.Skip, it.Detail = SkipChanged, fmt.Sprintf("Job %d: no longer matches the filter.", r.ID)
			}
			out[r.ID] = it
		}
	}
	return out, nil
}

// refusal says why action must leave job r alone, or "" when it may go ahead. due holds,
// for a retry, the jobs whose reservation no longer needs them and why.
func refusal(action Action, r *rivertype.JobRow, due map[int64]string) (skip, detail string) {
	st := string(r.State)
	switch {
	case st == StateRunning && action != ActionCancel:
		return SkipRunning, fmt.Sprintf("Job %d: running; it cannot be %s while it runs.", r.ID, action.Done())
	case action == ActionRetry && st == StateAvailable:
		return SkipWaiting, fmt.Sprintf("Job %d: already waiting to run.", r.ID)
	case action == ActionRetry && st == StateCompleted:
		return SkipCompleted, fmt.Sprintf("Job %d: completed; there is nothing to retry.", r.ID)
	case action == ActionRetry && st == StatePending:
		return SkipPending, fmt.Sprintf("Job %d: pending; River makes it available when it is due.", r.ID)
	case action == ActionCancel && finished(st):
		return SkipFinished, fmt.Sprintf("Job %d: already %s.", r.ID, st)
	case action == ActionRetry && due[r.ID] != "":
		return SkipNotDue, fmt.Sprintf("Job %d: not retried: %s", r.ID, due[r.ID])
	}
	return "", ""
}

// notDue is the safety check before a retry: the jobs among rows whose reservation no
// longer needs them, and why. A payout is due only while its reservation is settled (a
// payout for a reservation that is not, say one cancelled by hand in the database, must not
// be paid); a notice of approval is out of date once the reservation has been cancelled
// (the customer was told that since); a job about a reservation that no longer exists is
// not run. The statuses are read in the transaction that retries.
func (s *Service) notDue(ctx context.Context, tx pgx.Tx, rows []*rivertype.JobRow) (map[int64]string, error) {
	type subject struct {
		ReservationID int64  `json:"reservation_id"`
		Event         string `json:"event"`
	}
	subjects := map[int64]subject{}
	var ids []int64
	for _, r := range rows {
		if r.Kind != (jobs.PartnerPayoutArgs{}).Kind() && r.Kind != (jobs.NotifyCustomerArgs{}).Kind() {
			continue
		}
		var sub subject
		_ = json.Unmarshal(r.EncodedArgs, &sub) // args that do not parse name no reservation
		if sub.ReservationID == 0 {
			continue
		}
		subjects[r.ID] = sub
		ids = append(ids, sub.ReservationID)
	}
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	statuses, err := queries.New(tx).RiverJobReservationStatuses(ctx, ids)
	if err != nil {
		return nil, err
	}
	status := map[int64]string{}
	for _, st := range statuses {
		status[st.ID] = st.Status
	}
	for _, r := range rows {
		sub, ok := subjects[r.ID]
		if !ok {
			continue
		}
		st, exists := status[sub.ReservationID]
		switch {
		case !exists:
			out[r.ID] = fmt.Sprintf("reservation #%d no longer exists.", sub.ReservationID)
		case r.Kind == (jobs.PartnerPayoutArgs{}).Kind() && st != reservations.StatusSettled:
			out[r.ID] = fmt.Sprintf("reservation #%d is %s, not settled: no payout is due.", sub.ReservationID, st)
		case r.Kind == (jobs.NotifyCustomerArgs{}).Kind() && sub.Event == jobs.EventApproved && st == reservations.StatusCancelled:
			out[r.ID] = fmt.Sprintf("reservation #%d was cancelled since: its approval notice is out of date.", sub.ReservationID)
		}
	}
	return out, nil
}

// record writes the audit row of one job acted on: who, what, the state before and after,
// the reason, and how many jobs the batch reached.
func (s *Service) record(ctx context.Context, tx pgx.Tx, actor Actor, action Action, before, after *rivertype.JobRow, reason string, batch int) error {
	to := "deleted"
	if after != nil && action != ActionDelete {
		to = string(after.State)
	}
	detail := map[string]any{"kind": before.Kind, "queue": before.Queue, "batch": batch}
	if reason != "" {
		detail["reason"] = reason
	}
	if ref := jobOf(before).ReservationID; ref != 0 {
		detail["reservation_id"] = ref
	}
	if action == ActionCancel && after != nil && after.State == rivertype.JobStateRunning {
		detail["requested"] = "running: its worker is asked to stop it"
	}
	return audit.Record(ctx, tx, audit.Entry{
		Actor: actor, Action: "job." + string(action), RecordType: RecordJob, RecordID: before.ID,
		From: string(before.State), To: to, Detail: detail,
	})
}
