-- +goose NO TRANSACTION
-- +goose Up

-- The payout marks of a page of reservations (the list, a reservation's page): the failing or
-- cancelled payouts of those reservations. Through River's metadata index every job matched
-- the key "reservation_id", so each page intersected a million entries (about 530 pages
-- read, 50–130 ms under load); this index holds only the payouts in trouble, by reservation
-- (44 rows for a page of 50: 0.4 ms). Its predicate is RiverJobPayoutProblemsOf's, word for
-- word, so that the planner needs nothing else.
CREATE INDEX CONCURRENTLY IF NOT EXISTS river_job_payout_problem_idx ON river_job (((args ->> 'reservation_id')::bigint))
    WHERE kind = 'partner_payout' AND (state IN ('retryable', 'discarded', 'cancelled') OR state = 'scheduled' AND errors IS NOT NULL);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS river_job_payout_problem_idx;
