-- name: UserGet :one
SELECT * FROM users WHERE id = $1;

-- name: UserGetByEmail :one
SELECT * FROM users WHERE email = $1;

-- name: UserList :many
-- Every user, or those whose email or name contains search (case-insensitive; no
-- wildcards, so '%' and '_' mean themselves).
SELECT * FROM users
WHERE @search::text = '' OR strpos(email, lower(@search)) > 0 OR strpos(lower(name), lower(@search)) > 0
ORDER BY role, email;

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

-- name: UserLockEnabledAdmins :many
-- Locks the enabled admins' rows, in id order, so that changes which could leave no enabled
-- admin run one after the other and each sees the admins the previous one left.
SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE;

-- name: UserSetRole :one
-- Changes a role, unless that would take the role of the last enabled admin. Returns the
-- role it had before (read under the row's lock, so it is the one replaced).
UPDATE users u SET role = @role::text, updated_at = now()
FROM (SELECT x.id, x.role FROM users x WHERE x.id = @id FOR UPDATE) AS old
WHERE u.id = old.id
  AND (@role::text = 'admin' OR u.role <> 'admin' OR u.disabled_at IS NOT NULL
       OR EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.disabled_at IS NULL AND o.id <> u.id))
RETURNING u.id, u.email, u.name, u.role, u.password_hash, u.demo, u.disabled_at, u.created_at, u.updated_at,
          old.role AS old_role;

-- name: UserSetDisabled :one
-- Disables or enables a user, unless that would disable the last enabled admin.
UPDATE users u
SET disabled_at = CASE WHEN @disabled::boolean THEN coalesce(u.disabled_at, now()) END, updated_at = now()
WHERE u.id = @id
  AND (NOT @disabled::boolean OR u.role <> 'admin' OR u.disabled_at IS NOT NULL
       OR EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.disabled_at IS NULL AND o.id <> u.id))
RETURNING *;

-- name: UserSetPassword :one
UPDATE users SET password_hash = @password_hash, updated_at = now() WHERE id = @id RETURNING *;

-- name: UserCountByRole :many
SELECT role, count(*) AS users FROM users WHERE disabled_at IS NULL GROUP BY role ORDER BY role;
