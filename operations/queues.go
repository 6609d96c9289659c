package operations

import (
	"context"
	"errors"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"tally"
	"tally/audit"
)

// AllQueues names every queue at once, as River's QueuePause and QueueResume take it.
const AllQueues = "*"

// queueName is River's rule for a queue's name.
var queueName = regexp.MustCompile(`^(?:[a-z0-9])+(?:[_|\-]?[a-z0-9]+)*$`)

// PauseQueue pauses a queue (AllQueues: every queue): workers fetch no more of its jobs, and
// the running ones finish. It is audited in the transaction River's QueuePauseTx runs in. A
// queue that is already paused stays paused since its first pause.
func (s *Service) PauseQueue(ctx context.Context, actor Actor, name, reason string) error {
	return s.queueAction(ctx, actor, name, reason, "queue.pause", "paused")
}

// ResumeQueue resumes a paused queue (AllQueues: every queue): its workers fetch its jobs
// again.
func (s *Service) ResumeQueue(ctx context.Context, actor Actor, name, reason string) error {
	return s.queueAction(ctx, actor, name, reason, "queue.resume", "running")
}

func (s *Service) queueAction(ctx context.Context, actor Actor, name, reason, action, to string) error {
	if name != AllQueues && (len(name) > 64 || !queueName.MatchString(name)) {
		return tally.Errorf(tally.EINVALID, "%q is not a queue name.", name)
	}
	if err := CheckReason(reason); err != nil {
		return err
	}
	return s.inTx(ctx, 3, func(tx pgx.Tx) error {
		var err error
		if to == "paused" {
			err = s.river.QueuePauseTx(ctx, tx, name, nil)
		} else {
			err = s.river.QueueResumeTx(ctx, tx, name, nil)
		}
		if errors.Is(err, rivertype.ErrNotFound) {
			return tally.Errorf(tally.ENOTFOUND, "There is no queue %q that a worker has run: only those can be paused and resumed.", name)
		} else if err != nil {
			return err
		}
		detail := map[string]any{"queue": name}
		if reason != "" {
			detail["reason"] = reason
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, RecordType: RecordQueue, To: to, Detail: detail})
	})
}
