-- +goose NO TRANSACTION
-- +goose Up

-- The partner circuit breaker as the workers last saw it. Each worker process keeps its own
-- breaker in memory (gobreaker) and writes it here when it changes, so that the web console,
-- which may run in another process, can show it. One row per partner; the latest change wins.
CREATE TABLE IF NOT EXISTS partner_circuit (
    partner       text        PRIMARY KEY,
    state         text        NOT NULL CHECK (state IN ('closed', 'open', 'half-open')),
    -- Partner calls that failed in a row when the row was written, and the last one's error.
    failures      integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_error    text,
    -- When it opened after working (not reset by a failed probe), and when it next lets a
    -- probe through; both NULL once closed.
    opened_at     timestamptz,
    next_probe_at timestamptz,
    worker        text        NOT NULL,
    changed_at    timestamptz NOT NULL
);

-- One settlement report per day (UTC), replaced when the day is generated again: any web
-- replica serves it, and re-running a day cannot leave two versions behind.
CREATE TABLE IF NOT EXISTS settlement_reports (
    day          date        PRIMARY KEY,
    csv          text        NOT NULL,
    rows         integer     NOT NULL CHECK (rows >= 0),
    generated_at timestamptz NOT NULL
);

-- A day's report reads that day's settlements only, not every settled reservation.
-- CONCURRENTLY: building it must not block reservation writes on a live table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS reservations_settled_at_idx ON reservations (settled_at) WHERE status = 'settled';

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS reservations_settled_at_idx;
DROP TABLE IF EXISTS settlement_reports;
DROP TABLE IF EXISTS partner_circuit;
