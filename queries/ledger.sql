-- LedgerPost writes the entries of one ledger transaction in one statement (the database
-- checks, at the end of each statement, that they sum to zero).
-- name: LedgerPost :exec
INSERT INTO ledger_entries (txn_id, reservation_id, account, amount_cents, currency)
SELECT @txn_id, @reservation_id, e.account, e.amount_cents, @currency
FROM (SELECT unnest(@accounts::text[]) AS account, unnest(@amounts::bigint[]) AS amount_cents) e;

-- LedgerSeedSettled posts the settlements of settled reservations that have none (seeding).
-- name: LedgerSeedSettled :execrows
INSERT INTO ledger_entries (txn_id, reservation_id, account, amount_cents, currency, created_at)
SELECT t.txn_id, r.id, e.account, e.amount_cents, r.currency, r.settled_at
FROM reservations r
CROSS JOIN LATERAL (SELECT gen_random_uuid() AS txn_id, (r.amount_cents * sqlc.arg(fee_basis_points)::bigint + 5000) / 10000 AS fee) t
CROSS JOIN LATERAL (VALUES ('receivable', r.amount_cents - t.fee), ('fees', t.fee), ('revenue', -r.amount_cents)) e (account, amount_cents)
WHERE r.status = 'settled' AND e.amount_cents <> 0
  AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.reservation_id = r.id);

-- name: LedgerEntryListByReservation :many
SELECT * FROM ledger_entries WHERE reservation_id = $1 ORDER BY id;
