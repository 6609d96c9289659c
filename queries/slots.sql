-- name: SlotTakeSeats :one
-- Takes seats only if they are free and the slot has not started; zero rows means it is sold
-- out, has too few left, or is over.
UPDATE slots SET reserved = reserved + @seats
WHERE id = @id AND reserved + @seats <= capacity AND starts_at > now()
RETURNING *;

-- name: SlotReleaseSeats :exec
UPDATE slots SET reserved = reserved - @seats WHERE id = @id;

-- name: SlotReleaseSeatsMany :exec
UPDATE slots s SET reserved = s.reserved - x.seats
FROM (
    SELECT u.slot_id, sum(u.seats)::integer AS seats
    FROM (SELECT unnest(@slot_ids::bigint[]) AS slot_id, unnest(@seats::integer[]) AS seats) u
    GROUP BY u.slot_id
) x
WHERE s.id = x.slot_id;

-- SlotGet reads a slot, and whether it has started by the database's clock (the one the
-- conditional update checks).
-- name: SlotGet :one
SELECT sqlc.embed(slots), starts_at <= now() AS started FROM slots WHERE id = $1;

-- name: SlotListUpcoming :many
SELECT sqlc.embed(s), r.name AS resource_name
FROM slots s JOIN resources r ON r.id = s.resource_id
WHERE s.starts_at >= greatest(now(), sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(resource_id)::bigint IS NULL OR s.resource_id = sqlc.narg(resource_id))
ORDER BY s.starts_at, s.id
LIMIT @row_limit;

-- name: SlotInsert :one
INSERT INTO slots (resource_id, starts_at, capacity, price_cents, currency)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;
