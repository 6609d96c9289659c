-- The jobs console's reads of River's tables that River's client has no call for: counts,
-- lag, throughput, failure groups. Read-only: every change to a job goes through River's
-- client (package operations). River's schema, as sqlc sees it, is queries/river/schema.sql.

-- RiverJobConsoleTx sets up a transaction of the console. No JIT compilation: its statements
-- are a few index probes each, but on a table of a million rows the planner prices them high
-- enough to compile them, which takes longer (a third of a second) than running them. And a
-- plan for the parameters given: the same prepared statement reads a minute or an hour
-- (finalized_at >= $1), and a generic plan, made for any $1, reads the whole table.
-- name: RiverJobConsoleTx :exec
SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true);

-- RiverJobCountByStateQueue counts the jobs of each queue in each of @states, up to @cap
-- each: a count stops at @cap rows of river_job_prioritized_fetching_index (state, queue, …)
-- rather than walking a million finished jobs. The queues of a state are found by skipping
-- from one to the next through the same index, not by reading every row.
-- name: RiverJobCountByStateQueue :many
WITH RECURSIVE pairs (state, queue) AS (
    SELECT s.state, (SELECT min(j.queue) FROM river_job j WHERE j.state = s.state)
    FROM unnest(CAST(@states::text[] AS river_job_state[])) AS s (state)
  UNION ALL
    SELECT p.state, (SELECT min(j.queue) FROM river_job j WHERE j.state = p.state AND j.queue > p.queue)
    FROM pairs p
    WHERE p.queue IS NOT NULL
)
SELECT p.state::text AS state, p.queue::text AS queue, (
    SELECT count(*) FROM (
        SELECT 1 FROM river_job j WHERE j.state = p.state AND j.queue = p.queue LIMIT @cap::int
    ) capped
)::bigint AS jobs
FROM pairs p
WHERE p.queue IS NOT NULL
ORDER BY 1, 2;

-- RiverJobEstimateByStateQueue is the planner's idea of how many jobs each (state, queue)
-- has: the share of each pair in the extended statistics river_job_state_queue_stats
-- (migration 00006) times the table's rows, scaled to the table's current size as the
-- planner does. Empty until river_job has been analysed.
-- name: RiverJobEstimateByStateQueue :many
SELECT st.most_common_vals[i][1]::text AS state, st.most_common_vals[i][2]::text AS queue,
       (st.most_common_freqs[i] * CASE
            WHEN c.relpages > 0 THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::bigint)
            ELSE c.reltuples END)::bigint AS jobs
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_stats_ext st ON st.schemaname = current_schema() AND st.tablename = 'river_job'
                                AND st.statistics_name = 'river_job_state_queue_stats'
CROSS JOIN LATERAL generate_subscripts(st.most_common_freqs, 1) AS i
WHERE c.oid = 'river_job'::regclass AND c.reltuples > 0;

-- RiverJobOldestAvailable is, per queue, when its oldest available job became available:
-- the queue's lag is the time since (waiting is false, and oldest meaningless, when none is
-- available). One index probe per priority, since the fetching index orders by priority
-- before scheduled_at.
-- name: RiverJobOldestAvailable :many
SELECT q.queue::text AS queue, (o.oldest IS NOT NULL)::boolean AS waiting, coalesce(o.oldest, now())::timestamptz AS oldest
FROM unnest(@queues::text[]) AS q (queue)
LEFT JOIN LATERAL (
    SELECT min(first.scheduled_at)::timestamptz AS oldest
    FROM unnest('{1,2,3,4}'::smallint[]) AS pr (priority)
    CROSS JOIN LATERAL (
        SELECT j.scheduled_at FROM river_job j
        WHERE j.state = 'available' AND j.queue = q.queue AND j.priority = pr.priority
        ORDER BY j.scheduled_at
        LIMIT 1
    ) first
) o ON true;

-- RiverJobFailureGroups groups the discarded and retryable jobs by kind, by their last error
-- as it is, and by currency, so that the money at stake (the payouts' amounts) is never added
-- across currencies; the most common @max_rows. First and last seen are the times of the
-- first and the last recorded error. The errors are masked (job_error_pattern) apart, by
-- RiverJobErrorPatterns: an outage fails thousands of jobs with one message, and a process
-- masks each message once (operations.Service), masking being the costly part.
-- name: RiverJobFailureGroups :many
SELECT j.kind, coalesce(job_last_error(j.errors), '')::text AS error, coalesce(j.args ->> 'currency', '')::text AS currency,
       count(*) AS jobs,
       count(*) FILTER (WHERE j.state = 'discarded') AS discarded,
       count(*) FILTER (WHERE j.state <> 'discarded') AS retryable,
       min(coalesce((j.errors[1] ->> 'at')::timestamptz, j.created_at))::timestamptz AS first_seen,
       max(coalesce((j.errors[cardinality(j.errors)] ->> 'at')::timestamptz, j.created_at))::timestamptz AS last_seen,
       coalesce(sum((j.args ->> 'amount_cents')::bigint) FILTER (WHERE j.kind = @payout_kind::text), 0)::bigint AS amount_cents,
       max(j.id)::bigint AS latest_id
FROM river_job j
-- A scheduled job with errors failed and waits to run again: snoozed while the partner's
-- circuit is open, it is as much a failure as a retryable one.
WHERE (j.state IN ('discarded', 'retryable') OR j.state = 'scheduled' AND j.errors IS NOT NULL)
GROUP BY 1, 2, 3
ORDER BY 4 DESC
LIMIT @max_rows::int;

-- RiverJobErrorPatterns masks errors as the failure groups and their filter do.
-- name: RiverJobErrorPatterns :many
SELECT e.error::text AS error, coalesce(job_error_pattern(e.error), '')::text AS pattern
FROM unnest(@errors::text[]) AS e (error);

-- RiverJobCountMatching counts, up to @cap, the jobs a console filter matches. It must match
-- exactly the jobs that the filter's River JobListParams list (operations.Filter): a test
-- holds the two to each other. An error text (one line) is found through the trigram index of
-- job_errors_text (migration 00009), a job's errors one per line; a pattern through its index.
-- name: RiverJobCountMatching :one
SELECT count(*) FROM (
    SELECT 1 FROM river_job j
    WHERE j.state = ANY(river_job_states(@states::text[]))
      AND (sqlc.narg(kind)::text IS NULL OR j.kind = sqlc.narg(kind))
      AND (sqlc.narg(queue)::text IS NULL OR j.queue = sqlc.narg(queue))
      AND (sqlc.narg(reservation)::jsonb IS NULL OR j.metadata @> sqlc.narg(reservation) OR j.args @> sqlc.narg(reservation))
      AND (sqlc.narg(error_like)::text IS NULL
           OR job_errors_text(j.errors) ILIKE sqlc.narg(error_like))
      AND (sqlc.narg(pattern)::text IS NULL
           OR j.errors IS NOT NULL AND job_error_pattern(job_last_error(j.errors)) = sqlc.narg(pattern))
      AND (sqlc.narg(attempted_before)::timestamptz IS NULL OR j.attempted_at < sqlc.narg(attempted_before))
    LIMIT @cap::int
) capped;

-- RiverJobMinutes is what the throughput and latency charts are drawn from, per minute and
-- kind, for the jobs finished in [@since, @until): how many completed, were cancelled or
-- discarded, and the spread of their last run's time (finalized_at - attempted_at) and queue
-- wait (attempted_at - scheduled_at) as counts per duration bucket (job_duration_bucket);
-- and how many attempts failed (their errors' times), whatever became of the job since.
-- Rows: measure is completed, cancelled, discarded, failed (bucket 0), run or wait.
-- name: RiverJobMinutes :many
WITH finished AS (
    SELECT j.kind, j.state, j.finalized_at, j.attempted_at, j.scheduled_at
    FROM river_job j
    WHERE j.state IN ('completed', 'cancelled', 'discarded')
      AND j.finalized_at >= @since::timestamptz AND j.finalized_at < @until::timestamptz
)
SELECT date_trunc('minute', f.finalized_at)::timestamptz AS minute, f.kind, f.state::text AS measure, 0::int AS bucket, count(*) AS jobs
FROM finished f
GROUP BY 1, 2, 3
UNION ALL
SELECT date_trunc('minute', f.finalized_at)::timestamptz, f.kind, 'run', job_duration_bucket(f.finalized_at - f.attempted_at), count(*)
FROM finished f
WHERE f.attempted_at IS NOT NULL
GROUP BY 1, 2, 4
UNION ALL
SELECT date_trunc('minute', f.finalized_at)::timestamptz, f.kind, 'wait', job_duration_bucket(f.attempted_at - f.scheduled_at), count(*)
FROM finished f
WHERE f.attempted_at IS NOT NULL
GROUP BY 1, 2, 4
UNION ALL
SELECT date_trunc('minute', (e.error ->> 'at')::timestamptz)::timestamptz, f.kind, 'failed', 0, count(*)
FROM (
    -- The jobs that may have failed an attempt in the span: those not finished (few, found
    -- through the state index) and those finished in it (the finalized_at index of the jobs
    -- with errors, migration 00009). Not an OR, which would read the whole table. Not "errors
    -- IS NOT NULL" for the unfinished, nor anything it follows from: the planner would read
    -- the whole index of failed jobs to find the few unfinished ones.
    SELECT j.kind, j.errors FROM river_job j
    WHERE j.state IN ('available', 'pending', 'retryable', 'running', 'scheduled') AND coalesce(cardinality(j.errors), 0) > 0
    UNION ALL
    SELECT j.kind, j.errors FROM river_job j
    WHERE j.state IN ('completed', 'cancelled', 'discarded') AND j.finalized_at >= @since::timestamptz AND j.errors IS NOT NULL
) f
CROSS JOIN LATERAL unnest(f.errors) AS e (error)
WHERE (e.error ->> 'at')::timestamptz >= @since::timestamptz AND (e.error ->> 'at')::timestamptz < @until::timestamptz
GROUP BY 1, 2;

-- RiverJobPayoutProblems is, for each reservation whose payout is failing or was cancelled,
-- its latest such payout job: retryable or discarded (failing) or cancelled (refused by the
-- partner, or by an operator: River's JobCancel marks the metadata with cancel_attempted_at).
-- The newest reservations first.
-- name: RiverJobPayoutProblems :many
SELECT DISTINCT ON ((j.args ->> 'reservation_id')::bigint)
       (j.args ->> 'reservation_id')::bigint AS reservation_id, j.id, j.state::text AS state,
       j.attempt, j.max_attempts, coalesce(job_last_error(j.errors), '')::text AS last_error,
       j.scheduled_at, j.finalized_at, (j.metadata ? 'cancel_attempted_at')::boolean AS cancelled_by_operator
FROM river_job j
WHERE j.kind = @payout_kind::text
  AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)
ORDER BY (j.args ->> 'reservation_id')::bigint DESC, j.id DESC
LIMIT @max_rows::int;

-- RiverJobPayoutProblemsOf is RiverJobPayoutProblems for the given reservations (a page of
-- the reservations list): found through the index of payouts in trouble by reservation
-- (migration 00011), not by reading every failed payout.
-- name: RiverJobPayoutProblemsOf :many
SELECT DISTINCT ON ((j.args ->> 'reservation_id')::bigint)
       (j.args ->> 'reservation_id')::bigint AS reservation_id, j.id, j.state::text AS state,
       j.attempt, j.max_attempts, coalesce(job_last_error(j.errors), '')::text AS last_error,
       j.scheduled_at, j.finalized_at, (j.metadata ? 'cancel_attempted_at')::boolean AS cancelled_by_operator
FROM river_job j
WHERE (j.args ->> 'reservation_id')::bigint = ANY(@reservation_ids::bigint[])
  AND j.kind = @payout_kind::text
  AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)
ORDER BY (j.args ->> 'reservation_id')::bigint DESC, j.id DESC;

-- RiverJobPayoutProblemCount counts, up to @cap, the payout jobs failing (retryable or
-- discarded) and cancelled: the dashboard's and the overview's number, without reading
-- their args.
-- name: RiverJobPayoutProblemCount :one
SELECT count(*) FILTER (WHERE capped.state <> 'cancelled') AS failing,
       count(*) FILTER (WHERE capped.state = 'cancelled') AS cancelled
FROM (
    SELECT j.state FROM river_job j
    WHERE j.kind = @payout_kind::text AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)
    LIMIT @cap::int
) capped;

-- RiverJobReservationStatuses reads the status of the reservations that jobs about to be
-- retried belong to: the safety check before a retry (no payout for a cancelled reservation).
-- name: RiverJobReservationStatuses :many
SELECT r.id, r.status
FROM reservations r
WHERE r.id = ANY(@ids::bigint[]);
