-- name: PasswordLinkInsert :one
-- A new link for a user; earlier links of that user, and expired links of anyone, are
-- deleted first, so only the newest link works.
WITH old AS (
    DELETE FROM password_links WHERE user_id = @user_id OR expires_at <= now()
)
INSERT INTO password_links (token_hash, user_id, created_by, expires_at)
VALUES (@token_hash, @user_id, sqlc.narg(created_by), now() + make_interval(secs => @valid_secs::float8))
RETURNING expires_at;

-- name: PasswordLinkUser :one
-- The user a link that still works is for.
SELECT u.* FROM password_links l JOIN users u ON u.id = l.user_id
WHERE l.token_hash = @token_hash AND l.expires_at > now();

-- name: PasswordLinkUse :one
-- Uses a link up: it works once.
DELETE FROM password_links WHERE token_hash = @token_hash AND expires_at > now() RETURNING user_id;
