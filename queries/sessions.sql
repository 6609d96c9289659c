-- name: SessionCountActive :one
SELECT count(*) FROM sessions WHERE expiry > now();

-- name: SessionPurgeExpired :execrows
DELETE FROM sessions WHERE expiry <= now();
