-- +goose NO TRANSACTION
-- +goose Up

-- The reservations list sorts by id, slot start, amount, status or customer name, with keyset
-- pagination on (key, id). Ids and statuses have their indexes already ((status, id) since
-- 00002); slot starts have slots_starts_idx, walked in order and joined to each slot's
-- reservations. These are the other two. CONCURRENTLY: on a live table with a million rows, a
-- plain CREATE INDEX would block every reservation write while it builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_amount_id_idx ON reservations (amount_cents, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_name_id_idx ON customers (name, id);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS customers_name_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS reservations_amount_id_idx;
