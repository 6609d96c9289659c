package metrics

import (
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Job outcomes, as River's events tell them.
const (
	JobCompleted = "completed"
	JobFailed    = "failed" // to be retried
	JobDiscarded = "discarded"
	JobCancelled = "cancelled"
	JobSnoozed   = "snoozed"
)

// jobEvents are the events WatchJobs counts: every way a run of a job ends.
var jobEvents = []river.EventKind{
	river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed,
}

// WatchJobs counts the jobs client works, from River's event subscription: outcomes, run
// time and wait by kind. client must work jobs (have queues). Subscribe before the client
// starts, so that no run is missed; the watch ends when the client stops or stop is called.
func (m *Metrics) WatchJobs(client *river.Client[pgx.Tx]) (stop func()) {
	// River drops events a slow reader leaves in a full channel: counting is quick, and a
	// burst of thousands of runs a second fits.
	events, cancel := client.SubscribeConfig(&river.SubscribeConfig{Kinds: jobEvents, ChanSize: 10_000})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range events {
			m.job(e)
		}
	}()
	return func() { cancel(); <-done }
}

func (m *Metrics) job(e *river.Event) {
	if e.Job == nil {
		return
	}
	var outcome string
	switch e.Kind {
	case river.EventKindJobCompleted:
		outcome = JobCompleted
	case river.EventKindJobFailed:
		outcome = JobFailed
		if e.Job.State == rivertype.JobStateDiscarded {
			outcome = JobDiscarded
		}
	case river.EventKindJobCancelled:
		outcome = JobCancelled
	case river.EventKindJobSnoozed:
		outcome = JobSnoozed
	default:
		return
	}
	kind := e.Job.Kind
	m.jobs.WithLabelValues(kind, outcome).Inc()
	if e.JobStats != nil {
		m.jobRun.WithLabelValues(kind, outcome).Observe(e.JobStats.RunDuration.Seconds())
		m.jobWait.WithLabelValues(kind).Observe(e.JobStats.QueueWaitDuration.Seconds())
	}
}
