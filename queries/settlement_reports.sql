-- name: SettlementReportLines :many
-- The settlements of [since, until), oldest first: one line per reservation, with the fee the
-- partner keeps and the payout it owes, as posted in the ledger at the settle.
SELECT r.id, r.settled_at, coalesce(u.email, '')::text AS settled_by, r.slot_id,
       res.name AS resource, s.starts_at, c.name AS customer_name, c.email AS customer_email,
       r.seats, r.currency, r.amount_cents,
       coalesce(sum(l.amount_cents) FILTER (WHERE l.account = 'fees'), 0)::bigint AS fee_cents,
       coalesce(sum(l.amount_cents) FILTER (WHERE l.account = 'receivable'), 0)::bigint AS payout_cents
FROM reservations r
JOIN slots s ON s.id = r.slot_id
JOIN resources res ON res.id = s.resource_id
JOIN customers c ON c.id = r.customer_id
LEFT JOIN users u ON u.id = r.settled_by
LEFT JOIN ledger_entries l ON l.reservation_id = r.id
WHERE r.status = 'settled' AND r.settled_at >= @since::timestamptz AND r.settled_at < @until::timestamptz
GROUP BY r.id, s.id, res.id, c.id, u.id
ORDER BY r.settled_at, r.id;

-- name: SettlementReportSave :one
-- A day generated again replaces its report.
INSERT INTO settlement_reports (day, csv, rows, generated_at)
VALUES (@day, @csv, @rows, now())
ON CONFLICT (day) DO UPDATE
SET csv = EXCLUDED.csv, rows = EXCLUDED.rows, generated_at = EXCLUDED.generated_at
RETURNING day, rows, generated_at;

-- name: SettlementReportGet :one
SELECT * FROM settlement_reports WHERE day = @day;

-- name: SettlementReportList :many
-- The newest reports first, without their files; before is the keyset cursor.
SELECT day, rows, generated_at, octet_length(csv)::integer AS bytes
FROM settlement_reports
WHERE sqlc.narg(before)::date IS NULL OR day < sqlc.narg(before)::date
ORDER BY day DESC
LIMIT @row_limit;
