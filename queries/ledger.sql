-- LedgerPost writes the entries of one ledger transaction in one statement (the database
-- checks, at the end of each statement, that they sum to zero).
-- name: LedgerPost :exec
INSERT INTO ledger_entries (txn_id, reservation_id, account, amount_cents, currency)
SELECT @txn_id, @reservation_id, e.account, e.amount_cents, @currency
FROM (SELECT unnest(@accounts::text[]) AS account, unnest(@amounts::bigint[]) AS amount_cents) e;

-- LedgerSeedSettled posts the settlements of settled reservations that have none (seeding).
-- name: LedgerSeedSettled :execrows
INSERT INTO ledger_entries (txn_id, reservation_id, account, amount_cents, currency, created_at)
SELECT t.txn_id, r.id, e.account, e.amount_cents, r.currency, r.settled_at
FROM reservations r
CROSS JOIN LATERAL (SELECT gen_random_uuid() AS txn_id, (r.amount_cents * sqlc.arg(fee_basis_points)::bigint + 5000) / 10000 AS fee) t
CROSS JOIN LATERAL (VALUES ('receivable', r.amount_cents - t.fee), ('fees', t.fee), ('revenue', -r.amount_cents)) e (account, amount_cents)
WHERE r.status = 'settled' AND e.amount_cents <> 0
  AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.reservation_id = r.id);

-- name: LedgerEntryListByReservation :many
SELECT * FROM ledger_entries WHERE reservation_id = $1 ORDER BY id;

-- name: AuditInsert :exec
INSERT INTO audit_events (actor_id, actor, action, record_type, record_id, from_status, to_status,
                          request_id, idempotency_key, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: AuditListByRecord :many
SELECT * FROM audit_events WHERE record_type = $1 AND record_id = $2 ORDER BY id;

-- name: AuditListLatest :many
SELECT * FROM audit_events
WHERE (sqlc.narg(actor)::text IS NULL OR actor = sqlc.narg(actor))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action))
  AND (sqlc.narg(record_type)::text IS NULL OR record_type = sqlc.narg(record_type))
  AND (sqlc.narg(record_id)::bigint IS NULL OR record_id = sqlc.narg(record_id))
  AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT @row_limit;

-- IdempotencyKeyLock serialises requests with one key: it is held to the end of the
-- transaction, and a second request with the key finds it taken (the first is in flight).
-- name: IdempotencyKeyLock :one
SELECT pg_try_advisory_xact_lock(hashtextextended(@actor_id::bigint || ':' || @key::text, 7261));

-- name: IdempotencyKeyGet :one
SELECT * FROM idempotency_keys WHERE actor_id = $1 AND key = $2;

-- name: IdempotencyKeyInsert :exec
INSERT INTO idempotency_keys (actor_id, key, fingerprint, outcome) VALUES ($1, $2, $3, $4);

-- name: IdempotencyKeyPurge :execrows
DELETE FROM idempotency_keys WHERE created_at < @before::timestamptz;
