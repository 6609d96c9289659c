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
