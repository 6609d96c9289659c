-- QueryComparisonInsert saves a comparison as it starts (query analysis, package analysis:
-- the statements it analyses are the other files' queries, run under EXPLAIN by its runner).
-- name: QueryComparisonInsert :one
INSERT INTO query_comparisons (query_name, statement, params, candidate, candidate_ddl, mode, runs, phase, rerun_of, created_by)
VALUES (@query_name, @statement, @params, @candidate, @candidate_ddl, @mode, @runs, @phase, sqlc.narg(rerun_of), sqlc.narg(created_by))
RETURNING id, created_at;

-- QueryComparisonPhase says what a running comparison does now; it is also its heartbeat.
-- name: QueryComparisonPhase :exec
UPDATE query_comparisons SET phase = @phase, progress = @progress, updated_at = now()
WHERE id = @id AND status = 'running';

-- QueryComparisonFinish ends a running comparison, once: zero rows means it had ended.
-- name: QueryComparisonFinish :one
UPDATE query_comparisons
SET status = @status, phase = '', progress = 1, plan_a = sqlc.narg(plan_a), plan_b = sqlc.narg(plan_b), outcome = sqlc.narg(outcome),
    error = sqlc.narg(error), finished_at = now(), updated_at = now()
WHERE id = @id AND status = 'running'
RETURNING id;

-- name: QueryComparisonGet :one
SELECT c.id, c.query_name, c.statement, c.params, c.candidate, c.candidate_ddl, c.mode, c.runs, c.status, c.phase, c.progress,
       c.plan_a, c.plan_b, c.outcome, c.error, c.rerun_of, c.created_at, c.updated_at, c.finished_at,
       coalesce(u.email, '')::text AS created_by_email
FROM query_comparisons c
LEFT JOIN users u ON u.id = c.created_by
WHERE c.id = @id;

-- QueryComparisonList lists comparisons newest first, without their plans; before is the
-- keyset cursor.
-- name: QueryComparisonList :many
SELECT c.id, c.query_name, c.candidate_ddl, c.mode, c.runs, c.status, c.outcome, c.error, c.rerun_of,
       c.created_at, c.updated_at, coalesce(u.email, '')::text AS created_by_email
FROM query_comparisons c
LEFT JOIN users u ON u.id = c.created_by
WHERE sqlc.narg(before)::bigint IS NULL OR c.id < sqlc.narg(before)::bigint
ORDER BY c.id DESC
LIMIT @row_limit;

-- QueryAnalysisSample reads common and rare values from the newest reservations (a bounded
-- sample, so that it stays quick on a million rows), to pre-fill the catalogue's parameters
-- with values that matter on skewed data: the busiest slot and a quiet one, and so on.
-- name: QueryAnalysisSample :one
WITH recent AS (
    SELECT r.id, r.slot_id, r.customer_id, r.status, s.resource_id
    FROM (SELECT * FROM reservations ORDER BY id DESC LIMIT 50000) r
    JOIN slots s ON s.id = r.slot_id
),
by_slot AS (SELECT slot_id AS v, count(*) AS n FROM recent GROUP BY slot_id),
by_customer AS (SELECT customer_id AS v, count(*) AS n FROM recent GROUP BY customer_id),
by_resource AS (SELECT resource_id AS v, count(*) AS n FROM recent GROUP BY resource_id),
by_status AS (SELECT status AS v, count(*) AS n FROM recent GROUP BY status)
SELECT
    (SELECT count(*) FROM recent)::bigint AS sampled,
    coalesce((SELECT max(id) FROM recent), 0)::bigint AS newest_id,
    coalesce((SELECT v FROM by_slot ORDER BY n DESC, v LIMIT 1), 0)::bigint AS busy_slot,
    coalesce((SELECT n FROM by_slot ORDER BY n DESC, v LIMIT 1), 0)::bigint AS busy_slot_n,
    coalesce((SELECT v FROM by_slot ORDER BY n, v DESC LIMIT 1), 0)::bigint AS quiet_slot,
    coalesce((SELECT n FROM by_slot ORDER BY n, v DESC LIMIT 1), 0)::bigint AS quiet_slot_n,
    coalesce((SELECT v FROM by_customer ORDER BY n DESC, v LIMIT 1), 0)::bigint AS busy_customer,
    coalesce((SELECT n FROM by_customer ORDER BY n DESC, v LIMIT 1), 0)::bigint AS busy_customer_n,
    coalesce((SELECT v FROM by_customer ORDER BY n, v DESC LIMIT 1), 0)::bigint AS quiet_customer,
    coalesce((SELECT n FROM by_customer ORDER BY n, v DESC LIMIT 1), 0)::bigint AS quiet_customer_n,
    coalesce((SELECT v FROM by_resource ORDER BY n DESC, v LIMIT 1), 0)::bigint AS busy_resource,
    coalesce((SELECT n FROM by_resource ORDER BY n DESC, v LIMIT 1), 0)::bigint AS busy_resource_n,
    coalesce((SELECT v FROM by_resource ORDER BY n, v DESC LIMIT 1), 0)::bigint AS quiet_resource,
    coalesce((SELECT n FROM by_resource ORDER BY n, v DESC LIMIT 1), 0)::bigint AS quiet_resource_n,
    coalesce((SELECT v FROM by_status ORDER BY n DESC, v LIMIT 1), '')::text AS common_status,
    coalesce((SELECT n FROM by_status ORDER BY n DESC, v LIMIT 1), 0)::bigint AS common_status_n,
    coalesce((SELECT v FROM by_status ORDER BY n, v DESC LIMIT 1), '')::text AS rare_status,
    coalesce((SELECT n FROM by_status ORDER BY n, v DESC LIMIT 1), 0)::bigint AS rare_status_n,
    coalesce((SELECT c.name FROM customers c WHERE c.id = (SELECT v FROM by_customer ORDER BY n DESC, v LIMIT 1)), '')::text AS busy_customer_name,
    coalesce((SELECT max(settled_at) FROM reservations WHERE status = 'settled'), now())::timestamptz AS last_settled_at,
    coalesce((SELECT a.actor FROM audit_events a ORDER BY a.id DESC LIMIT 1), '')::text AS recent_actor,
    coalesce((SELECT a.action FROM audit_events a ORDER BY a.id DESC LIMIT 1), '')::text AS recent_action;

-- QueryAnalysisColumns lists the columns of the tables the analysis role may read: the tables
-- a candidate index may go on, and their columns.
-- name: QueryAnalysisColumns :many
SELECT c.relname::text AS table_name, a.attname::text AS column_name,
       pg_catalog.format_type(a.atttypid, a.atttypmod)::text AS column_type, coalesce(NOT a.attnotnull, false)::boolean AS nullable,
       coalesce(c.reltuples, 0)::bigint AS table_rows
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
  AND pg_catalog.has_table_privilege('tally_query_analysis', c.oid, 'SELECT')
ORDER BY c.relname, a.attnum;

-- QueryAnalysisIndexes lists the indexes of the tables the analysis role may read, as their
-- definitions, so that a candidate that repeats one can be named.
-- name: QueryAnalysisIndexes :many
SELECT t.relname::text AS table_name, i.relname::text AS index_name, pg_catalog.pg_get_indexdef(i.oid)::text AS definition,
       x.indisvalid AS valid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema()
  AND pg_catalog.has_table_privilege('tally_query_analysis', t.oid, 'SELECT')
ORDER BY t.relname, i.relname;

-- QueryAnalysisHypoPG says whether HypoPG can be used: created in this database (its
-- version), or only installed on the server.
-- name: QueryAnalysisHypoPG :one
SELECT coalesce((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'hypopg'), '')::text AS created_version,
       coalesce((SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = 'hypopg'), '')::text AS available_version,
       EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proname = 'hypopg_hide_index') AS can_hide,
       current_setting('server_version_num')::integer AS server_version;

-- QueryAnalysisCandidateIndexes lists the candidate indexes left in this schema (by a build
-- that failed, or a process that died during a comparison); like every candidate, their names
-- start with tally_candidate_.
-- name: QueryAnalysisCandidateIndexes :many
SELECT i.relname::text AS index_name, x.indisvalid AS valid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace
WHERE n.nspname = current_schema() AND i.relname LIKE 'tally\_candidate\_%'
ORDER BY i.relname;

-- QueryAnalysisIndexState reads a candidate index after its build: whether it is valid, and
-- its size on disk.
-- name: QueryAnalysisIndexState :one
SELECT x.indisvalid AS valid, pg_catalog.pg_relation_size(i.oid)::bigint AS bytes
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace
WHERE n.nspname = current_schema() AND i.relname = @index_name;

-- QueryAnalysisBuildProgress is the progress of the CREATE INDEX that backend @pid runs.
-- name: QueryAnalysisBuildProgress :one
SELECT phase::text AS phase, blocks_total::bigint AS blocks_total, blocks_done::bigint AS blocks_done,
       tuples_total::bigint AS tuples_total, tuples_done::bigint AS tuples_done
FROM pg_catalog.pg_stat_progress_create_index
WHERE pid = @pid::integer;

-- QueryAnalysisBuildLock takes, for the session, the lock that lets one real-mode comparison
-- build a candidate index at a time (in this database); false when another holds it. The
-- session that holds it builds the index, and the lock goes with the session.
-- name: QueryAnalysisBuildLock :one
SELECT pg_try_advisory_lock(7261090) AS locked;

-- QueryAnalysisBuildTimeouts bounds the session's index build: its whole length, and how
-- long it may wait for a lock.
-- name: QueryAnalysisBuildTimeouts :exec
SELECT set_config('statement_timeout', @statement_ms::text, false), set_config('lock_timeout', @lock_ms::text, false);
