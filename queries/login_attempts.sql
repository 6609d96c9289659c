-- name: LoginAttemptClaim :one
-- An attempt about to have its password checked: pending, and a failure until settled.
INSERT INTO login_attempts (email, ip, succeeded, pending) VALUES (@email, @ip, false, true)
RETURNING id;

-- name: LoginAttemptSettle :exec
UPDATE login_attempts SET succeeded = @succeeded, pending = false WHERE id = @id;

-- name: LoginLockEmail :exec
-- Serialises sign-ins to one email (with LoginLockAddress, taken second, for one address)
-- until the transaction ends: counting failures and recording an attempt are one step.
SELECT pg_advisory_xact_lock(726101, hashtext(@email::text));

-- name: LoginLockAddress :exec
SELECT pg_advisory_xact_lock(726102, hashtext(@ip::text));

-- name: LoginPairFailures :many
-- The newest failures of one email from one address since that pair's last success, newest
-- first: what the per-(account, address) limit counts. Pending attempts count unless
-- decided_only.
SELECT a.attempted_at FROM login_attempts a
WHERE a.email = @email AND a.ip = @ip AND NOT a.succeeded AND a.cleared_at IS NULL
  AND a.attempted_at > now() - make_interval(secs => @window_secs::float8)
  AND NOT EXISTS (SELECT 1 FROM login_attempts s
                  WHERE s.email = a.email AND s.ip = a.ip AND s.succeeded AND s.attempted_at > a.attempted_at)
  AND (NOT @decided_only::boolean OR NOT a.pending)
ORDER BY a.attempted_at DESC
LIMIT @max_rows;

-- name: LoginAddressFailures :many
-- The newest failures from one address, for any email, newest first.
SELECT attempted_at FROM login_attempts
WHERE ip = @ip AND NOT succeeded AND cleared_at IS NULL
  AND attempted_at > now() - make_interval(secs => @window_secs::float8)
  AND (NOT @decided_only::boolean OR NOT pending)
ORDER BY attempted_at DESC
LIMIT @max_rows;

-- name: LoginEmailFailures :one
-- The failures of one email from every address and the latest of them (now when there are
-- none), with the database's clock to measure delays by.
SELECT count(*) AS failures, coalesce(max(attempted_at), now())::timestamptz AS latest, now()::timestamptz AS now
FROM login_attempts
WHERE email = @email AND NOT succeeded AND cleared_at IS NULL
  AND attempted_at > now() - make_interval(secs => @window_secs::float8)
  AND (NOT @decided_only::boolean OR NOT pending);

-- name: LoginLimitedPairs :many
-- Every (email, address) pair at its limit, with the failure whose ageing out lifts it.
SELECT a.email, a.ip, count(*) AS failures,
       (array_agg(a.attempted_at ORDER BY a.attempted_at DESC))[@max_failures::int]::timestamptz AS lifting_failure,
       u.id AS user_id
FROM login_attempts a
LEFT JOIN users u ON u.email = a.email
WHERE NOT a.succeeded AND a.cleared_at IS NULL
  AND a.attempted_at > now() - make_interval(secs => @window_secs::float8)
  AND NOT EXISTS (SELECT 1 FROM login_attempts s
                  WHERE s.email = a.email AND s.ip = a.ip AND s.succeeded AND s.attempted_at > a.attempted_at)
GROUP BY a.email, a.ip, u.id
HAVING count(*) >= @max_failures::int
ORDER BY a.email, a.ip;

-- name: LoginLimitedAddresses :many
-- Every address at its limit, with the failure whose ageing out lifts it.
SELECT ip, count(*) AS failures,
       (array_agg(attempted_at ORDER BY attempted_at DESC))[@max_failures::int]::timestamptz AS lifting_failure
FROM login_attempts
WHERE NOT succeeded AND cleared_at IS NULL
  AND attempted_at > now() - make_interval(secs => @window_secs::float8)
GROUP BY ip
HAVING count(*) >= @max_failures::int
ORDER BY ip;

-- name: LoginDelayedEmails :many
-- Every email whose failures from all addresses make each further attempt wait.
SELECT a.email, count(*) AS failures, max(a.attempted_at)::timestamptz AS latest, u.id AS user_id
FROM login_attempts a
LEFT JOIN users u ON u.email = a.email
WHERE NOT a.succeeded AND a.cleared_at IS NULL
  AND a.attempted_at > now() - make_interval(secs => @window_secs::float8)
GROUP BY a.email, u.id
HAVING count(*) >= @free_failures::int
ORDER BY a.email;

-- name: LoginFailuresClear :one
-- Forgives the failures of an email, an address, or both (a pair): the limits they made lift.
WITH cleared AS (
    UPDATE login_attempts SET cleared_at = now()
    WHERE NOT succeeded AND cleared_at IS NULL
      AND (sqlc.narg(email)::text IS NULL OR email = sqlc.narg(email))
      AND (sqlc.narg(ip)::text IS NULL OR ip = sqlc.narg(ip))
      AND (sqlc.narg(email)::text IS NOT NULL OR sqlc.narg(ip)::text IS NOT NULL)
    RETURNING id
)
SELECT count(*) AS cleared, coalesce(max(id), 0)::bigint AS latest_id FROM cleared;

-- name: LoginAttemptPurge :execrows
DELETE FROM login_attempts WHERE attempted_at < @before::timestamptz;

-- name: LoginFailureCountSince :one
SELECT count(*) FROM login_attempts WHERE NOT succeeded AND attempted_at > @since::timestamptz;
