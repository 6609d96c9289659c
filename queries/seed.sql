-- Bulk loads for `tally seed`, through COPY.

-- name: SlotCopy :copyfrom
INSERT INTO slots (resource_id, starts_at, capacity, reserved, price_cents, currency)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: CustomerCopy :copyfrom
INSERT INTO customers (name, email) VALUES ($1, $2);

-- name: ReservationCopy :copyfrom
INSERT INTO reservations (slot_id, customer_id, seats, amount_cents, currency, status, hold_expires_at,
                          approved_by, approved_at, settled_by, settled_at, closed_by, closed_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15);

-- name: CustomerIDRange :one
SELECT coalesce(min(id), 0)::bigint AS first_id, coalesce(max(id), 0)::bigint AS last_id FROM customers;

-- name: ResourceCount :one
SELECT count(*) FROM resources;

-- name: SlotIDsAfter :many
SELECT id FROM slots WHERE id > $1 ORDER BY id;

-- name: SlotMaxID :one
SELECT coalesce(max(id), 0)::bigint FROM slots;

-- name: ResourceListAll :many
SELECT * FROM resources ORDER BY id;

-- name: ReservationMaxID :one
SELECT coalesce(max(id), 0)::bigint FROM reservations;

-- name: RiverJobMaxID :one
SELECT coalesce(max(id), 0)::bigint FROM river_job;

-- SeedTune sets the seed transaction up for bulk work: its commit need not wait for the WAL to
-- reach the disk (a crash loses the whole seed, never part of it), and index builds get the
-- memory to sort a million rows at once.
-- name: SeedTune :exec
SELECT set_config('synchronous_commit', 'off', true), set_config('maintenance_work_mem', sqlc.arg(sort_memory)::text, true);

-- SeedOfflineList lists what a bulk load takes off the given tables and puts back after, as the
-- statements that drop and recreate it, written from the definitions in the catalogue (so that an
-- index or a key added by a later migration comes back exactly as it was): foreign keys of the
-- tables and those pointing at them, then the valid indexes that back no constraint. Primary
-- keys and unique constraints stay: rows appended in key order cost little to index, and keys
-- stay unique for every session meanwhile. Drop in this order, recreate in the reverse.
-- name: SeedOfflineList :many
WITH loaded AS (SELECT to_regclass(unnest(@tables::text[]))::oid AS oid)
SELECT kind, name, drop_sql, create_sql, comment_sql FROM (
    SELECT 1 AS ord, 'foreign key'::text AS kind, k.conname::text AS name,
           format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname) AS drop_sql,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) AS create_sql,
           CASE WHEN obj_description(k.oid, 'pg_constraint') IS NOT NULL THEN
               format('COMMENT ON CONSTRAINT %I ON %s IS %L', k.conname, k.conrelid::regclass, obj_description(k.oid, 'pg_constraint'))
           ELSE '' END::text AS comment_sql
    FROM pg_catalog.pg_constraint k
    WHERE k.contype = 'f'
      AND (k.conrelid IN (SELECT oid FROM loaded) OR k.confrelid IN (SELECT oid FROM loaded))
    UNION ALL
    SELECT 2, 'index', i.relname::text,
           format('DROP INDEX %s', x.indexrelid::regclass),
           pg_get_indexdef(x.indexrelid),
           CASE WHEN obj_description(x.indexrelid, 'pg_class') IS NOT NULL THEN
               format('COMMENT ON INDEX %s IS %L', x.indexrelid::regclass, obj_description(x.indexrelid, 'pg_class'))
           ELSE '' END
    FROM pg_catalog.pg_index x
    JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid IN (SELECT oid FROM loaded) AND x.indisvalid
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
) d
ORDER BY ord, name;

-- SeedInsertTriggerList lists the enabled user triggers that fire on inserts into the given
-- tables, with the statements that drop and recreate each (and its comment). Dropped, not
-- disabled: a disabled trigger with a transition table still has every inserted row copied
-- into that table.
-- name: SeedInsertTriggerList :many
SELECT t.tgname::text AS name,
       format('DROP TRIGGER %I ON %s', t.tgname, t.tgrelid::regclass) AS drop_sql,
       pg_get_triggerdef(t.oid) AS create_sql,
       CASE WHEN obj_description(t.oid, 'pg_trigger') IS NOT NULL THEN
           format('COMMENT ON TRIGGER %I ON %s IS %L', t.tgname, t.tgrelid::regclass, obj_description(t.oid, 'pg_trigger'))
       ELSE '' END::text AS comment_sql
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid IN (SELECT to_regclass(unnest(@tables::text[]))::oid) AND NOT t.tgisinternal AND t.tgenabled = 'O'
  AND t.tgtype & 4 <> 0 -- TRIGGER_TYPE_INSERT
ORDER BY t.tgname;

-- LedgerPostSettledAfter posts the settlement of each settled reservation numbered after
-- after (the ones a seed just added): receivable net of the fee, the fee, revenue in full.
-- The transaction id is drawn in a subquery of its own, once per reservation: drawn in the
-- lateral join, the planner may memoize it by amount and give many reservations one id.
-- name: LedgerPostSettledAfter :execrows
INSERT INTO ledger_entries (txn_id, reservation_id, account, amount_cents, currency, created_at)
SELECT s.txn_id, s.id, e.account, e.amount_cents, s.currency, s.settled_at
FROM (SELECT gen_random_uuid() AS txn_id, r.id, r.amount_cents, r.currency, r.settled_at,
             (r.amount_cents * sqlc.arg(fee_basis_points)::bigint + 5000) / 10000 AS fee
      FROM reservations r
      WHERE r.id > sqlc.arg(after) AND r.status = 'settled') s
CROSS JOIN LATERAL (VALUES ('receivable', s.amount_cents - s.fee), ('fees', s.fee), ('revenue', -s.amount_cents)) e (account, amount_cents)
WHERE e.amount_cents <> 0;

-- LedgerUnbalancedAfter finds a ledger transaction of the entries numbered after after that
-- does not sum to zero: what the balance trigger checks, once for a whole bulk load whose
-- transactions are all new (their ids drawn at random for it).
-- name: LedgerUnbalancedAfter :many
SELECT txn_id, sum(amount_cents)::bigint AS total
FROM ledger_entries
WHERE id > @after
GROUP BY txn_id
HAVING sum(amount_cents) <> 0
LIMIT 1;

-- name: SeedAnalyze :exec
ANALYZE resources, slots, customers, reservations, ledger_entries;

-- name: RiverJobCopy :copyfrom
INSERT INTO river_job (state, attempt, max_attempts, attempted_at, created_at, finalized_at, scheduled_at, priority,
                       args, attempted_by, errors, kind, metadata, queue)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14);

-- SeedJobReservationList samples reservations for finished jobs to be about: every step-th
-- past its hold, with what its jobs carry.
-- name: SeedJobReservationList :many
SELECT r.id, r.status, r.amount_cents, r.currency, c.email
FROM reservations r
JOIN customers c ON c.id = r.customer_id
WHERE r.status <> 'held' AND r.id % @step::bigint = 0
ORDER BY r.id
LIMIT @max_rows;

-- name: SeedRiverAnalyze :exec
ANALYZE river_job;

-- name: LedgerEntryMaxID :one
SELECT coalesce(max(id), 0)::bigint FROM ledger_entries;

-- ReservationCountsRebuild counts every reservation again into reservation_counts: the
-- stand-in for its insert trigger after a bulk load.
-- name: ReservationCountsRebuild :exec
SELECT reservation_counts_rebuild();
