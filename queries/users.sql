-- name: UserGet :one
SELECT * FROM users WHERE id = $1;

-- name: UserGetByEmail :one
SELECT * FROM users WHERE email = $1;

-- name: UserList :many
SELECT * FROM users ORDER BY role, email;

-- name: UserInsert :one
INSERT INTO users (email, name, role, password_hash, demo)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: UserUpsertDemo :exec
INSERT INTO users (email, name, role, password_hash, demo)
VALUES ($1, $2, $3, $4, true)
ON CONFLICT (email) DO UPDATE
SET name = EXCLUDED.name, role = EXCLUDED.role, password_hash = EXCLUDED.password_hash,
    disabled_at = NULL, updated_at = now()
WHERE users.demo;

-- name: UserSetRole :one
UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING *;

-- name: UserSetDisabled :one
UPDATE users
SET disabled_at = CASE WHEN @disabled::boolean THEN coalesce(disabled_at, now()) END, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: UserCountByRole :many
SELECT role, count(*) AS users FROM users WHERE disabled_at IS NULL GROUP BY role ORDER BY role;
