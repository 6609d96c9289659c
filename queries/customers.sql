-- name: CustomerGet :one
SELECT * FROM customers WHERE id = $1;

-- name: CustomerInsert :one
INSERT INTO customers (name, email) VALUES ($1, $2) RETURNING *;

-- name: CustomerSearch :many
SELECT * FROM customers
WHERE sqlc.narg(search)::text IS NULL OR name ILIKE '%' || sqlc.narg(search) || '%' OR email ILIKE '%' || sqlc.narg(search) || '%'
ORDER BY name, id
LIMIT @row_limit;
