-- LedgerPost writes the entries of one ledger transaction in one statement (the database
-- checks, at the end of each statement, that they sum to zero).
-- name: LedgerPost :exec
INSERT INTO ledger_entries (txn_id, reservation_id, account, amount_cents, currency)
SELECT @txn_id, @reservation_id, e.account, e.amount_cents, @currency
FROM (SELECT unnest(@accounts::text[]) AS account, unnest(@amounts::bigint[]) AS amount_cents) e;

-- name: LedgerEntryListByReservation :many
SELECT * FROM ledger_entries WHERE reservation_id = $1 ORDER BY id;
