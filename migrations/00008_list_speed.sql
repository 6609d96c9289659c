-- +goose NO TRANSACTION
-- +goose Up

-- The reservations list and the dashboard at a million reservations (issue 11). Every
-- statement can run again after a failure half way (IF NOT EXISTS, OR REPLACE), since without
-- a transaction nothing is undone; indexes are built CONCURRENTLY, so as not to block
-- reservation writes on a live table while they build.

-- Searching customers by any part of their name or email ("sven", "weber2"): ILIKE '%…%'
-- cannot use a btree; trigram indexes serve it, and say quickly that nothing matches.
-- pg_trgm is a trusted extension (contrib): a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_name_trgm_idx ON customers USING gin (name gin_trgm_ops);
CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_email_trgm_idx ON customers USING gin (email gin_trgm_ops);

-- A customer's reservations in id order (the list of one customer, newest first), with the
-- status along so that a search's reservations, and their counts per status, are read from
-- the index alone. It replaces the index on customer_id alone, which it covers.
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_customer_id_idx ON reservations (customer_id, id) INCLUDE (status);
DROP INDEX CONCURRENTLY IF EXISTS reservations_customer_idx;

-- The dashboard's counts of today: reservations made and still held, approved, settled (and
-- the amounts), each a range of one of these indexes, with the currency (and amount) in the
-- index so that the rows need not be read. The settled one replaces 00005's, which it covers.
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_held_created_idx ON reservations (created_at) INCLUDE (currency) WHERE status = 'held';
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_approved_at_idx ON reservations (approved_at) INCLUDE (currency) WHERE approved_at IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_settled_at_amount_idx ON reservations (settled_at) INCLUDE (currency, amount_cents) WHERE status = 'settled';
DROP INDEX CONCURRENTLY IF EXISTS reservations_settled_at_idx;

-- reservation_counts keeps how many reservations each resource has in each status, so that
-- the list's tabs do not count a million rows. A change appends its difference as rows
-- (+1 for the new status, -1 for the old) rather than updating one row per status, which a
-- hundred approvals at once would queue on; the count is the sum of the rows. Every few
-- hundred changes, one transaction folds the rows into one per (resource, status).
CREATE TABLE IF NOT EXISTS reservation_counts (
    resource_id  bigint NOT NULL,
    status       text   NOT NULL,
    reservations bigint NOT NULL
);
GRANT SELECT ON reservation_counts TO tally_query_analysis;

-- How many changes have been appended: every 256th folds.
CREATE SEQUENCE IF NOT EXISTS reservation_counts_changes;

-- reservation_counts_fold folds the rows into one per (resource, status), in one statement:
-- what it deletes is exactly what it sums. Rows appended meanwhile by transactions it cannot
-- see stay, and are folded next time. One fold at a time (the advisory lock): two would fold
-- the same rows twice. Only under READ COMMITTED, where the DELETE sees the last fold's rows:
-- an older snapshot would fail the whole transaction on rows already folded.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION reservation_counts_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed'
       OR NOT pg_try_advisory_xact_lock(hashtext('reservation_counts')) THEN
        RETURN; -- another transaction is folding; the next change will
    END IF;
    WITH gone AS (
        DELETE FROM reservation_counts RETURNING resource_id, status, reservations
    )
    INSERT INTO reservation_counts (resource_id, status, reservations)
    SELECT resource_id, status, sum(reservations) FROM gone GROUP BY resource_id, status HAVING sum(reservations) <> 0;
END
$$;
-- +goose StatementEnd

-- reservation_counts_rebuild counts every reservation again: after a bulk load that ran
-- without the triggers (seeding), or to repair. In one statement, as the fold: rows appended
-- by changes it does not see stay, and their reservations are not in its count.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION reservation_counts_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('reservation_counts'));
    WITH gone AS (
        DELETE FROM reservation_counts
    )
    INSERT INTO reservation_counts (resource_id, status, reservations)
    SELECT s.resource_id, r.status, count(*) FROM reservations r JOIN slots s ON s.id = r.slot_id GROUP BY s.resource_id, r.status;
END
$$;
-- +goose StatementEnd

-- The triggers append each statement's differences, summed per (resource, status): one row
-- per status an approval leaves and enters, a few rows for a COPY of a million.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION reservation_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    appended bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO reservation_counts (resource_id, status, reservations)
        SELECT s.resource_id, n.status, count(*) FROM new_rows n JOIN slots s ON s.id = n.slot_id GROUP BY s.resource_id, n.status;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO reservation_counts (resource_id, status, reservations)
        SELECT d.resource_id, d.status, sum(d.n) FROM (
            SELECT s.resource_id, n.status, 1 AS n FROM new_rows n JOIN slots s ON s.id = n.slot_id
            UNION ALL
            SELECT s.resource_id, o.status, -1 AS n FROM old_rows o JOIN slots s ON s.id = o.slot_id
        ) d
        GROUP BY d.resource_id, d.status HAVING sum(d.n) <> 0;
    ELSE
        INSERT INTO reservation_counts (resource_id, status, reservations)
        SELECT s.resource_id, o.status, -count(*) FROM old_rows o JOIN slots s ON s.id = o.slot_id GROUP BY s.resource_id, o.status;
    END IF;
    GET DIAGNOSTICS appended = ROW_COUNT;
    IF appended > 0 AND nextval('reservation_counts_changes') % 256 = 0 THEN
        PERFORM reservation_counts_fold();
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION reservation_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reservation_counts;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Creating a trigger waits for the writes in flight to end, and every later write fires it:
-- the rebuild that follows counts what no trigger saw.
DROP TRIGGER IF EXISTS reservation_counts_insert ON reservations;
CREATE TRIGGER reservation_counts_insert AFTER INSERT ON reservations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reservation_counts_track();
DROP TRIGGER IF EXISTS reservation_counts_update ON reservations;
CREATE TRIGGER reservation_counts_update AFTER UPDATE ON reservations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reservation_counts_track();
DROP TRIGGER IF EXISTS reservation_counts_delete ON reservations;
CREATE TRIGGER reservation_counts_delete AFTER DELETE ON reservations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reservation_counts_track();
DROP TRIGGER IF EXISTS reservation_counts_truncate ON reservations;
CREATE TRIGGER reservation_counts_truncate AFTER TRUNCATE ON reservations
    FOR EACH STATEMENT EXECUTE FUNCTION reservation_counts_clear();
SELECT reservation_counts_rebuild();

-- +goose Down
DROP TRIGGER IF EXISTS reservation_counts_truncate ON reservations;
DROP TRIGGER IF EXISTS reservation_counts_delete ON reservations;
DROP TRIGGER IF EXISTS reservation_counts_update ON reservations;
DROP TRIGGER IF EXISTS reservation_counts_insert ON reservations;
DROP FUNCTION IF EXISTS reservation_counts_clear();
DROP FUNCTION IF EXISTS reservation_counts_track();
DROP FUNCTION IF EXISTS reservation_counts_rebuild();
DROP FUNCTION IF EXISTS reservation_counts_fold();
DROP SEQUENCE IF EXISTS reservation_counts_changes;
DROP TABLE IF EXISTS reservation_counts;
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_settled_at_idx ON reservations (settled_at) WHERE status = 'settled';
DROP INDEX CONCURRENTLY IF EXISTS reservations_settled_at_amount_idx;
DROP INDEX CONCURRENTLY IF EXISTS reservations_approved_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS reservations_held_created_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_customer_idx ON reservations (customer_id);
DROP INDEX CONCURRENTLY IF EXISTS reservations_customer_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS customers_email_trgm_idx;
DROP INDEX CONCURRENTLY IF EXISTS customers_name_trgm_idx;
