-- +goose NO TRANSACTION
-- +goose Up

-- The jobs console at a million finished jobs (issue 11). River's own indexes serve its
-- fetching ((state, queue, priority, scheduled_at, id)), a state's time order ((state,
-- finalized_at)), kinds, args and metadata; these serve the console's filters, each read of a
-- list or a count walking an index in the list's order rather than the table.
-- CONCURRENTLY: river_job is written all the time; building them must not stop the workers.

-- The error-text filter matches any attempt's error, case-insensitively, anywhere in it: a
-- trigram index over all of a job's errors, one per line, finds them (only the jobs that
-- failed an attempt are indexed); the filter's text is one line, so what it finds is in one
-- error.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION job_errors_text(errors jsonb[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(e ->> 'error', E'\n') FROM unnest(errors) AS e
$$;
-- +goose StatementEnd

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX CONCURRENTLY IF NOT EXISTS river_job_errors_trgm_idx ON river_job
    USING gin (job_errors_text(errors) gin_trgm_ops) WHERE errors IS NOT NULL;
-- How common a text is among the errors: the planner's choice between walking the jobs newest
-- first until a page matches (a common text) and the index (a rare one). A partial index's
-- own statistics are not used for that.
CREATE STATISTICS IF NOT EXISTS river_job_errors_text_stats ON (job_errors_text(errors)) FROM river_job;

-- A list of one state and kind, newest first, and its capped count: the first 50 of 600,000
-- discarded notices, or completed payouts, in index order (River's kind index alone makes the
-- count read every job of the kind).
CREATE INDEX CONCURRENTLY IF NOT EXISTS river_job_state_kind_finalized_idx ON river_job (state, kind, finalized_at, id);

-- A failure group's jobs, by their masked last error (job_error_pattern, migration 00006):
-- masking is computed once, when a job's errors change, not for every job at every look.
CREATE INDEX CONCURRENTLY IF NOT EXISTS river_job_error_pattern_idx ON river_job
    (job_error_pattern(job_last_error(errors)), kind, state) WHERE errors IS NOT NULL;

-- The charts' failed attempts: the jobs finished since a time that failed an attempt, without
-- reading the ones that never failed.
CREATE INDEX CONCURRENTLY IF NOT EXISTS river_job_failed_finalized_idx ON river_job (finalized_at) WHERE errors IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS river_job_failed_finalized_idx;
DROP INDEX CONCURRENTLY IF EXISTS river_job_error_pattern_idx;
DROP INDEX CONCURRENTLY IF EXISTS river_job_state_kind_finalized_idx;
DROP STATISTICS IF EXISTS river_job_errors_text_stats;
DROP INDEX CONCURRENTLY IF EXISTS river_job_errors_trgm_idx;
DROP FUNCTION IF EXISTS job_errors_text(jsonb[]);
