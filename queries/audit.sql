-- name: AuditInsert :exec
INSERT INTO audit_events (actor_id, actor, action, record_type, record_id, from_status, to_status,
                          request_id, idempotency_key, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: AuditListByRecord :many
SELECT * FROM audit_events WHERE record_type = $1 AND record_id = $2 ORDER BY id;

-- name: AuditListLatest :many
SELECT * FROM audit_events
WHERE (sqlc.narg(actor)::text IS NULL OR actor = sqlc.narg(actor))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action))
  AND (sqlc.narg(record_type)::text IS NULL OR record_type = sqlc.narg(record_type))
  AND (sqlc.narg(record_id)::bigint IS NULL OR record_id = sqlc.narg(record_id))
  AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT @row_limit;
