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

-- name: SlotGet :one
SELECT * FROM slots WHERE id = $1;

-- name: SlotListUpcoming :many
SELECT sqlc.embed(s), r.name AS resource_name
FROM slots s JOIN resources r ON r.id = s.resource_id
WHERE s.starts_at >= @since::timestamptz
  AND (sqlc.narg(resource_id)::bigint IS NULL OR s.resource_id = sqlc.narg(resource_id))
ORDER BY s.starts_at, s.id
LIMIT @row_limit;

-- name: SlotInsert :one
INSERT INTO slots (resource_id, starts_at, capacity, price_cents, currency)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: ResourceList :many
SELECT r.*, count(s.id) AS slots, coalesce(sum(s.capacity), 0)::bigint AS capacity,
       coalesce(sum(s.reserved), 0)::bigint AS reserved
FROM resources r LEFT JOIN slots s ON s.resource_id = r.id AND s.starts_at >= now()
GROUP BY r.id
ORDER BY r.name;

-- name: ResourceInsert :one
INSERT INTO resources (name, kind) VALUES ($1, $2) RETURNING *;

-- name: CustomerGet :one
SELECT * FROM customers WHERE id = $1;

-- name: CustomerInsert :one
INSERT INTO customers (name, email) VALUES ($1, $2) RETURNING *;

-- name: CustomerSearch :many
SELECT * FROM customers
WHERE sqlc.narg(search)::text IS NULL OR name ILIKE '%' || sqlc.narg(search) || '%' OR email ILIKE '%' || sqlc.narg(search) || '%'
ORDER BY name, id
LIMIT @row_limit;
