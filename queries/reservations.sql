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

-- The list. Every filter is optional (NULL = any). A search matches the customer's name or
-- email, or, when it is a number (@search_id), the reservation's id. The caller finds the
-- matching customers first (CustomerIDsMatching, through the trigram indexes), and a search
-- that matches nobody reads nothing more. Then it reads their reservations' ids
-- (ReservationsOfCustomers) and passes them as @found_ids: the list fetches them by primary
-- key, in id order where it sorts by id, and never walks the table looking for a few. Only
-- when they are too many (matches are then dense) is the search given as text alone
-- (@found_ids NULL), matched on each row's customer while the list walks its order (sorted by
-- customer, on each customer before reading its reservations). The payout filter works
-- alike: @payout_ids are the reservations whose payout is failing, found first; NULL to
-- match them in a subquery. These alternatives are chosen by parameters that are either NULL
-- or not, which the planner folds away: each list and count is planned for its parameters
-- (plan_cache_mode force_custom_plan, ReservationReadSettings), never as a generic plan.
--
-- Each sort has two queries, ascending and descending, with keyset pagination on (sort key,
-- id): a page is the rows after the cursor in its own direction, and the page before a cursor
-- is read with the other direction's query and reversed. No CASE in ORDER BY, so that each can
-- walk an index (see migrations/00004_list_indexes.sql); the keys of joined tables (slot start,
-- customer name) are also bounded on their own (>=, <=) so that the walk can start from that
-- table's index.

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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(after_id)::bigint IS NULL OR r.id > sqlc.narg(after_id))
ORDER BY r.id ASC
LIMIT @row_limit;

-- name: ReservationListBySlotAsc :many
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR s.starts_at >= sqlc.narg(after_starts_at)::timestamptz AND (s.starts_at, r.id) > (sqlc.narg(after_starts_at), sqlc.narg(after_id)))
ORDER BY s.starts_at ASC, r.id ASC
LIMIT @row_limit;

-- name: ReservationListBySlotDesc :many
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(before_id)::bigint IS NULL
       OR s.starts_at <= sqlc.narg(before_starts_at)::timestamptz AND (s.starts_at, r.id) < (sqlc.narg(before_starts_at), sqlc.narg(before_id)))
ORDER BY s.starts_at DESC, r.id DESC
LIMIT @row_limit;

-- name: ReservationListByAmountAsc :many
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(after_id)::bigint IS NULL OR (r.amount_cents, r.id) > (sqlc.narg(after_amount_cents)::bigint, sqlc.narg(after_id)))
ORDER BY r.amount_cents ASC, r.id ASC
LIMIT @row_limit;

-- name: ReservationListByAmountDesc :many
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(before_id)::bigint IS NULL OR (r.amount_cents, r.id) < (sqlc.narg(before_amount_cents)::bigint, sqlc.narg(before_id)))
ORDER BY r.amount_cents DESC, r.id DESC
LIMIT @row_limit;

-- name: ReservationListByStatusAsc :many
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(after_id)::bigint IS NULL OR (r.status, r.id) > (sqlc.narg(after_status_key)::text, sqlc.narg(after_id)))
ORDER BY r.status ASC, r.id ASC
LIMIT @row_limit;

-- name: ReservationListByStatusDesc :many
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(before_id)::bigint IS NULL OR (r.status, r.id) < (sqlc.narg(before_status_key)::text, sqlc.narg(before_id)))
ORDER BY r.status DESC, r.id DESC
LIMIT @row_limit;

-- name: ReservationListByCustomerAsc :many
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(after_id)::bigint IS NULL
       OR c.name >= sqlc.narg(after_customer_name)::text AND (c.name, r.id) > (sqlc.narg(after_customer_name), sqlc.narg(after_id)))
ORDER BY c.name ASC, r.id ASC
LIMIT @row_limit;

-- name: ReservationListByCustomerDesc :many
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
  AND (sqlc.narg(search)::text IS NULL
       OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
       OR sqlc.narg(found_ids)::bigint[] IS NULL AND (c.name ILIKE '%' || sqlc.narg(search) || '%' OR c.email ILIKE '%' || sqlc.narg(search) || '%')
       OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
  AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
  AND (NOT sqlc.arg(payout_problem)::boolean
       OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
       OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
          WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
  AND (sqlc.narg(before_id)::bigint IS NULL
       OR c.name <= sqlc.narg(before_customer_name)::text AND (c.name, r.id) < (sqlc.narg(before_customer_name), sqlc.narg(before_id)))
ORDER BY c.name DESC, r.id DESC
LIMIT @row_limit;

-- ReservationListByIDs reads the given reservations as the list shows them (a bulk result
-- names each one).
-- name: ReservationListByIDs :many
SELECT sqlc.embed(r), s.starts_at AS slot_starts_at, res.name AS resource_name, c.name AS customer_name, c.email AS customer_email
FROM reservations r
JOIN slots s ON s.id = r.slot_id
JOIN resources res ON res.id = s.resource_id
JOIN customers c ON c.id = r.customer_id
WHERE r.id = ANY(@ids::bigint[])
ORDER BY r.id;

-- ReservationFilterSlot names the slot the list is narrowed to: its resource and start.
-- name: ReservationFilterSlot :one
SELECT sqlc.embed(s), res.name AS resource_name
FROM slots s JOIN resources res ON res.id = s.resource_id
WHERE s.id = $1;

-- The status tabs count the reservations the other filters match, whatever their status.
-- Without a filter, or by resource alone, they read the counts kept by migration 00008's
-- triggers (ReservationCountTracked). Otherwise they count up to @cap rows, which is exact
-- whenever fewer match, the common case of a filtered list.

-- ReservationCountTracked sums the kept counts of every resource or of one: exact, and a few
-- dozen rows to read whatever the size of the table.
-- name: ReservationCountTracked :many
SELECT status, sum(reservations)::bigint AS reservations
FROM reservation_counts
WHERE sqlc.narg(resource_id)::bigint IS NULL OR resource_id = sqlc.narg(resource_id)
GROUP BY status;

-- ReservationCountByStatus counts the first @cap reservations the list's filters match
-- (whatever their status), by status. The join to slots is LEFT so that the planner drops it
-- when no filter needs it.
-- name: ReservationCountByStatus :many
SELECT capped.status, count(*) AS reservations
FROM (
    SELECT r.status
    FROM reservations r
    LEFT JOIN slots s ON s.id = r.slot_id
    WHERE (sqlc.narg(slot_id)::bigint IS NULL OR r.slot_id = sqlc.narg(slot_id))
      AND (sqlc.narg(resource_id)::bigint IS NULL OR s.resource_id = sqlc.narg(resource_id))
      AND (sqlc.narg(customer_id)::bigint IS NULL OR r.customer_id = sqlc.narg(customer_id))
      AND (sqlc.narg(starts_from)::timestamptz IS NULL OR s.starts_at >= sqlc.narg(starts_from))
      AND (sqlc.narg(starts_before)::timestamptz IS NULL OR s.starts_at < sqlc.narg(starts_before))
      AND (sqlc.narg(search)::text IS NULL
           OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
               OR sqlc.narg(found_ids)::bigint[] IS NULL AND r.customer_id IN (SELECT m.id FROM customers m
              WHERE m.name ILIKE '%' || sqlc.narg(search) || '%' OR m.email ILIKE '%' || sqlc.narg(search) || '%')
           OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
      AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
      AND (NOT sqlc.arg(payout_problem)::boolean
           OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
           OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
              WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
    LIMIT @cap
) capped
GROUP BY capped.status;

-- ReservationCountByStatusUnjoined is ReservationCountByStatus for filters that need no slot
-- (no resource, no dates): without the join, which PostgreSQL 15 keeps in the plan's columns
-- even when it drops the join, a customer's count reads the index of customers' reservations
-- alone, statuses included (a hundred thousand entries in milliseconds).
-- name: ReservationCountByStatusUnjoined :many
SELECT capped.status, count(*) AS reservations
FROM (
    SELECT r.status
    FROM reservations r
    WHERE (sqlc.narg(slot_id)::bigint IS NULL OR r.slot_id = sqlc.narg(slot_id))
      AND (sqlc.narg(customer_id)::bigint IS NULL OR r.customer_id = sqlc.narg(customer_id))
      AND (sqlc.narg(search)::text IS NULL
           OR sqlc.narg(found_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(found_ids)::bigint[])
           OR sqlc.narg(found_ids)::bigint[] IS NULL AND r.customer_id IN (SELECT m.id FROM customers m
              WHERE m.name ILIKE '%' || sqlc.narg(search) || '%' OR m.email ILIKE '%' || sqlc.narg(search) || '%')
           OR sqlc.narg(search_id)::bigint IS NOT NULL AND r.id = sqlc.narg(search_id))
      AND (sqlc.narg(id)::bigint IS NULL OR r.id = sqlc.narg(id))
      AND (NOT sqlc.arg(payout_problem)::boolean
           OR sqlc.narg(payout_ids)::bigint[] IS NOT NULL AND r.id = ANY(sqlc.narg(payout_ids)::bigint[])
           OR sqlc.narg(payout_ids)::bigint[] IS NULL AND r.id IN (SELECT (j.args->>'reservation_id')::bigint FROM river_job j
              WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)))
    LIMIT @cap
) capped
GROUP BY capped.status;

-- ReservationStatsSince counts today's work per currency: amounts in different currencies
-- are never added together. Three index range scans, one per moment (made, approved,
-- settled), each reading only today's rows; an OR across the three columns would read the
-- whole table.
-- name: ReservationStatsSince :many
SELECT
    d.currency,
    sum(d.held)::bigint AS held,
    sum(d.approved)::bigint AS approved,
    sum(d.settled)::bigint AS settled,
    sum(d.settled_cents)::bigint AS settled_cents
FROM (
    SELECT currency, count(*) AS held, 0 AS approved, 0 AS settled, 0 AS settled_cents
    FROM reservations WHERE created_at >= @since::timestamptz AND status = 'held' GROUP BY currency
    UNION ALL
    SELECT currency, 0, count(*), 0, 0
    FROM reservations WHERE approved_at >= @since::timestamptz GROUP BY currency
    UNION ALL
    -- Only a settled reservation has settled_at; saying so lets the partial index serve it.
    SELECT currency, 0, 0, count(*), sum(amount_cents)
    FROM reservations WHERE settled_at >= @since::timestamptz AND status = 'settled' GROUP BY currency
) d
GROUP BY d.currency
ORDER BY d.currency;

-- ReservationsOfCustomers lists, up to @row_limit, the ids and statuses of the given
-- customers' reservations, customer by customer from their index alone: what a search found.
-- A join rather than customer_id = ANY(…): the planner weighs each element of an array
-- against the column's statistics, which for thousands of customers takes longer than the
-- scan.
-- name: ReservationsOfCustomers :many
SELECT r.id, r.status
FROM unnest(@customer_ids::bigint[]) AS c (id)
JOIN reservations r ON r.customer_id = c.id
LIMIT @row_limit;

-- ReservationPayoutProblemIDs lists, up to @row_limit, the reservations whose payout is
-- failing or was cancelled, for the list's payout filter to fetch by id rather than test
-- every reservation against the jobs. The same condition as the list's subquery.
-- name: ReservationPayoutProblemIDs :many
SELECT DISTINCT (j.args->>'reservation_id')::bigint AS reservation_id
FROM river_job j
WHERE j.kind = 'partner_payout' AND (j.state IN ('retryable', 'discarded', 'cancelled') OR j.state = 'scheduled' AND j.errors IS NOT NULL)
LIMIT @row_limit;

-- ReservationReadSettings makes the rest of a read-only transaction plan each statement for
-- its parameters, and without JIT: the list's optional filters fold away only in a plan made
-- for their values, and JIT would compile for longer than these queries run.
-- name: ReservationReadSettings :exec
SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true);
