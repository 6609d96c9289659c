-- name: CustomerGet :one
SELECT * FROM customers WHERE id = $1;

-- name: CustomerInsert :one
INSERT INTO customers (name, email) VALUES ($1, $2) RETURNING *;

-- name: CustomerSearch :many
SELECT * FROM customers
WHERE sqlc.narg(search)::text IS NULL OR name ILIKE '%' || sqlc.narg(search) || '%' OR email ILIKE '%' || sqlc.narg(search) || '%'
ORDER BY name, id
LIMIT @row_limit;

-- CustomerIDsMatching finds, up to @row_limit, the customers whose name or email holds
-- @search, through the trigram indexes (migration 00008): the reservations list's search
-- starts from them, and a search that matches nobody ends here.
-- name: CustomerIDsMatching :many
SELECT id FROM customers
WHERE name ILIKE '%' || @search::text || '%' OR email ILIKE '%' || @search::text || '%'
LIMIT @row_limit;
