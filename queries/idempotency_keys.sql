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
