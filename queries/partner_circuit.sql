-- name: PartnerCircuitSave :exec
-- Each worker writes its breaker when it changes. A change older than the one stored (from a
-- slower write of another worker) does not overwrite it.
INSERT INTO partner_circuit (partner, state, failures, last_error, opened_at, next_probe_at, worker, changed_at)
VALUES (@partner, @state, @failures, sqlc.narg(last_error), sqlc.narg(opened_at), sqlc.narg(next_probe_at), @worker, @changed_at)
ON CONFLICT (partner) DO UPDATE
SET state = EXCLUDED.state, failures = EXCLUDED.failures, last_error = EXCLUDED.last_error,
    opened_at = EXCLUDED.opened_at, next_probe_at = EXCLUDED.next_probe_at,
    worker = EXCLUDED.worker, changed_at = EXCLUDED.changed_at
WHERE partner_circuit.changed_at <= EXCLUDED.changed_at;

-- name: PartnerCircuitGet :one
SELECT * FROM partner_circuit WHERE partner = @partner;
