-- name: ReservationGet :one
SELECT * FROM reservations WHERE id = $1;

-- name: ReservationInsert :one
INSERT INTO reservations (slot_id, customer_id, seats, amount_cents, currency, hold_expires_at, created_by)
VALUES (@slot_id, @customer_id, @seats, @amount_cents, @currency,
        now() + make_interval(secs => @hold_seconds::double precision), @created_by)
RETURNING *;

-- The transitions of the state machine. Each changes the row only from the state it
-- leaves; zero rows means the reservation was not in that state (the caller reads it to
-- say why).

-- name: ReservationApprove :one
UPDATE reservations
SET status = 'approved', approved_by = @actor_id, approved_at = now(), version = version + 1, updated_at = now()
WHERE id = @id AND status = 'held' AND hold_expires_at > now()
RETURNING *;

-- name: ReservationReject :one
UPDATE reservations
SET status = 'rejected', closed_by = @actor_id, closed_at = now(), version = version + 1, updated_at = now()
WHERE id = @id AND status = 'held'
RETURNING *;

-- name: ReservationCancel :one
UPDATE reservations
SET status = 'cancelled', closed_by = @actor_id, closed_at = now(), version = version + 1, updated_at = now()
WHERE id = @id AND status IN ('held', 'approved')
RETURNING *;

-- name: ReservationSettle :one
UPDATE reservations
SET status = 'settled', settled_by = @actor_id, settled_at = now(), version = version + 1, updated_at = now()
WHERE id = @id AND status = 'approved'
RETURNING *;

-- ReservationExpireDue expires a batch of held reservations whose hold has passed. SKIP LOCKED
-- lets several workers expire at once without waiting on, or expiring twice, the same rows.
-- name: ReservationExpireDue :many
WITH due AS (
    SELECT id FROM reservations
    WHERE status = 'held' AND hold_expires_at <= now()
    ORDER BY hold_expires_at
    LIMIT @batch_size
    FOR UPDATE SKIP LOCKED
)
UPDATE reservations r
SET status = 'expired', closed_at = now(), version = r.version + 1, updated_at = now()
FROM due
WHERE r.id = due.id
RETURNING r.*;

-- ReservationLockApprovedOfSlot picks the next batch of a slot's approved reservations for
-- a bulk settle, skipping rows another transaction holds.
-- name: ReservationLockApprovedOfSlot :many
SELECT id FROM reservations
WHERE slot_id = @slot_id AND status = 'approved' AND id > @after_id
ORDER BY id
LIMIT @batch_size
FOR UPDATE SKIP LOCKED;

-- name: ReservationDetail :one
SELECT sqlc.embed(r), s.starts_at AS slot_starts_at, res.id AS resource_id, res.name AS resource_name,
       c.name AS customer_name, c.email AS customer_email,
       coalesce(ua.email, '')::text AS approved_by_email,
       coalesce(us.email, '')::text AS settled_by_email,
       coalesce(uc.email, '')::text AS closed_by_email,
       coalesce(ucr.email, '')::text AS created_by_email
FROM reservations r
JOIN slots s ON s.id = r.slot_id
JOIN resources res ON res.id = s.resource_id
JOIN customers c ON c.id = r.customer_id
LEFT JOIN users ua ON ua.id = r.approved_by
LEFT JOIN users us ON us.id = r.settled_by
LEFT JOIN users uc ON uc.id = r.closed_by
LEFT JOIN users ucr ON ucr.id = r.created_by
WHERE r.id = $1;

-- The list, newest first or oldest first, with keyset pagination on id. Every filter is
-- optional (NULL = any).

-- name: ReservationListNewest :many
SELECT sqlc.embed(r), s.starts_at AS slot_starts_at, res.name AS resource_name, c.name AS customer_name, c.email AS customer_email
FROM reservations r
JOIN slots s ON s.id = r.slot_id
JOIN resources res ON res.id = s.resource_id
JOIN customers c ON c.id = r.customer_id
WHERE (sqlc.narg(status)::text IS NULL OR r.status = sqlc.narg(status))
  AND (sqlc.narg(slot_id)::bigint IS NULL OR r.slot_id = sqlc.narg(slot_id))
  AND (sqlc.narg(resource_id)::bigint IS NULL OR s.resource_id = sqlc.narg(resource_id))
  AND (sqlc.narg(customer_id)::bigint IS NULL OR r.customer_id = sqlc.narg(customer_id))
  AND (sqlc.narg(starts_from)::timestamptz IS NULL OR s.starts_at >= sqlc.narg(starts_from))
  AND (sqlc.narg(starts_before)::timestamptz IS NULL OR s.starts_at < sqlc.narg(starts_before))
  AND (sqlc.narg(search)::text IS NULL OR c.name ILIKE '%' || sqlc.narg(search) || '%'
       OR c.email ILIKE '%' || sqlc.narg(search) || '%' OR r.id::text = sqlc.narg(search))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (sqlc.narg(before_id)::bigint IS NULL OR r.id < sqlc.narg(before_id))
ORDER BY r.id DESC
LIMIT @row_limit;

-- name: ReservationListOldest :many
SELECT sqlc.embed(r), s.starts_at AS slot_starts_at, res.name AS resource_name, c.name AS customer_name, c.email AS customer_email
FROM reservations r
JOIN slots s ON s.id = r.slot_id
JOIN resources res ON res.id = s.resource_id
JOIN customers c ON c.id = r.customer_id
WHERE (sqlc.narg(status)::text IS NULL OR r.status = sqlc.narg(status))
  AND (sqlc.narg(slot_id)::bigint IS NULL OR r.slot_id = sqlc.narg(slot_id))
  AND (sqlc.narg(resource_id)::bigint IS NULL OR s.resource_id = sqlc.narg(resource_id))
  AND (sqlc.narg(customer_id)::bigint IS NULL OR r.customer_id = sqlc.narg(customer_id))
  AND (sqlc.narg(starts_from)::timestamptz IS NULL OR s.starts_at >= sqlc.narg(starts_from))
  AND (sqlc.narg(starts_before)::timestamptz IS NULL OR s.starts_at < sqlc.narg(starts_before))
  AND (sqlc.narg(search)::text IS NULL OR c.name ILIKE '%' || sqlc.narg(search) || '%'
       OR c.email ILIKE '%' || sqlc.narg(search) || '%' OR r.id::text = sqlc.narg(search))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (sqlc.narg(after_id)::bigint IS NULL OR r.id > sqlc.narg(after_id))
ORDER BY r.id ASC
LIMIT @row_limit;

-- ReservationCountByStatus counts under the list's filters. It reaches slots and customers
-- only through semi-joins when a filter needs them: joining them always would triple the time
-- of the unfiltered count, which every list page shows.
-- name: ReservationCountByStatus :many
SELECT r.status, count(*) AS reservations
FROM reservations r
WHERE (sqlc.narg(slot_id)::bigint IS NULL OR r.slot_id = sqlc.narg(slot_id))
  AND (sqlc.narg(customer_id)::bigint IS NULL OR r.customer_id = sqlc.narg(customer_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (sqlc.narg(resource_id)::bigint IS NULL AND sqlc.narg(starts_from)::timestamptz IS NULL AND sqlc.narg(starts_before)::timestamptz IS NULL
       OR r.slot_id IN (
           SELECT s.id FROM slots s
           WHERE (sqlc.narg(resource_id)::bigint IS NULL OR s.resource_id = sqlc.narg(resource_id))
             AND (sqlc.narg(starts_from)::timestamptz IS NULL OR s.starts_at >= sqlc.narg(starts_from))
             AND (sqlc.narg(starts_before)::timestamptz IS NULL OR s.starts_at < sqlc.narg(starts_before))))
  AND (sqlc.narg(search)::text IS NULL OR r.id::text = sqlc.narg(search)
       OR r.customer_id IN (SELECT c.id FROM customers c
                            WHERE c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%'))
GROUP BY r.status;

-- ReservationStatsSince counts today's work per currency: amounts in different currencies
-- are never added together.
-- name: ReservationStatsSince :many
SELECT
    currency,
    count(*) FILTER (WHERE status = 'held' AND created_at >= @since::timestamptz) AS held,
    count(*) FILTER (WHERE approved_at >= @since::timestamptz) AS approved,
    count(*) FILTER (WHERE settled_at >= @since::timestamptz) AS settled,
    coalesce(sum(amount_cents) FILTER (WHERE settled_at >= @since::timestamptz), 0)::bigint AS settled_cents
FROM reservations
WHERE created_at >= @since::timestamptz OR approved_at >= @since::timestamptz OR settled_at >= @since::timestamptz
GROUP BY currency
ORDER BY currency;
