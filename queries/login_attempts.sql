-- name: LoginAttemptInsert :exec
INSERT INTO login_attempts (email, ip, succeeded) VALUES ($1, $2, $3);

-- name: LoginFailureCountByEmail :one
SELECT count(*) FROM login_attempts
WHERE email = $1 AND NOT succeeded AND attempted_at > @since::timestamptz;

-- name: LoginFailureCountByIP :one
SELECT count(*) FROM login_attempts
WHERE ip = $1 AND NOT succeeded AND attempted_at > @since::timestamptz;

-- name: LoginAttemptPurge :execrows
DELETE FROM login_attempts WHERE attempted_at < @before::timestamptz;

-- name: LoginFailureCountSince :one
SELECT count(*) FROM login_attempts WHERE NOT succeeded AND attempted_at > @since::timestamptz;
