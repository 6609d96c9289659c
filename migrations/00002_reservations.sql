-- +goose Up
CREATE TABLE resources (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind       text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 50),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE slots (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id bigint      NOT NULL REFERENCES resources (id),
    starts_at   timestamptz NOT NULL,
    capacity    integer     NOT NULL CHECK (capacity > 0),
    reserved    integer     NOT NULL DEFAULT 0,
    price_cents bigint      NOT NULL CHECK (price_cents >= 0),
    currency    text        NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    -- The last line of defence against overselling: no update can take more seats than exist.
    CONSTRAINT slots_reserved_within_capacity CHECK (reserved BETWEEN 0 AND capacity)
);
CREATE INDEX slots_resource_starts_idx ON slots (resource_id, starts_at);
CREATE INDEX slots_starts_idx ON slots (starts_at);

CREATE TABLE customers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email      text        NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot_id         bigint      NOT NULL REFERENCES slots (id),
    customer_id     bigint      NOT NULL REFERENCES customers (id),
    seats           integer     NOT NULL CHECK (seats BETWEEN 1 AND 100),
    amount_cents    bigint      NOT NULL CHECK (amount_cents >= 0),
    currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status          text        NOT NULL DEFAULT 'held'
                    CHECK (status IN ('held', 'approved', 'rejected', 'cancelled', 'expired', 'settled')),
    hold_expires_at timestamptz NOT NULL,
    created_by      bigint REFERENCES users (id),
    approved_by     bigint REFERENCES users (id),
    approved_at     timestamptz,
    settled_by      bigint REFERENCES users (id),
    settled_at      timestamptz,
    -- Who rejected or cancelled it (NULL for an expiry, done by the system), and when it closed.
    closed_by       bigint REFERENCES users (id),
    closed_at       timestamptz,
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'settled' OR (settled_at IS NOT NULL AND approved_at IS NOT NULL)),
    CHECK (status NOT IN ('rejected', 'cancelled', 'expired') OR closed_at IS NOT NULL)
);
CREATE INDEX reservations_status_id_idx ON reservations (status, id);
CREATE INDEX reservations_slot_idx ON reservations (slot_id, status);
CREATE INDEX reservations_customer_idx ON reservations (customer_id);
CREATE INDEX reservations_created_idx ON reservations (created_at, id);
CREATE INDEX reservations_hold_expiry_idx ON reservations (hold_expires_at) WHERE status = 'held';

-- Double-entry ledger, append-only. Debits are positive, credits negative; after every
-- statement, the entries of each ledger transaction it touched sum to zero (so the postings of
-- one transaction go in with one statement). A statement-level check with the inserted rows
-- as a table stays fast for bulk loads, where a per-row check would not.
CREATE TABLE ledger_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txn_id         uuid        NOT NULL,
    reservation_id bigint      NOT NULL REFERENCES reservations (id),
    account        text        NOT NULL CHECK (account IN ('receivable', 'revenue', 'fees')),
    amount_cents   bigint      NOT NULL CHECK (amount_cents <> 0),
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_reservation_idx ON ledger_entries (reservation_id);
CREATE INDEX ledger_entries_txn_idx ON ledger_entries (txn_id);

-- +goose StatementBegin
CREATE FUNCTION ledger_txns_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT l.txn_id, sum(l.amount_cents) AS total INTO bad
    FROM ledger_entries l
    WHERE l.txn_id IN (SELECT DISTINCT txn_id FROM inserted)
    GROUP BY l.txn_id
    HAVING sum(l.amount_cents) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its entries sum to %', bad.txn_id, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_balanced
    AFTER INSERT ON ledger_entries REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_txns_must_balance();

-- +goose StatementBegin
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Who did what to which record. Append-only; written in the same transaction as the change.
CREATE TABLE audit_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        bigint REFERENCES users (id),
    actor           text        NOT NULL, -- the user's email, or 'system'
    action          text        NOT NULL,
    record_type     text        NOT NULL,
    record_id       bigint      NOT NULL,
    from_status     text,
    to_status       text,
    request_id      text,
    idempotency_key text,
    detail          jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_record_idx ON audit_events (record_type, record_id, id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- One row per (user, key): the request's fingerprint and, once done, its outcome.
CREATE TABLE idempotency_keys (
    actor_id     bigint      NOT NULL REFERENCES users (id),
    key          text        NOT NULL CHECK (length(key) BETWEEN 8 AND 200),
    fingerprint  text        NOT NULL,
    outcome      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE ledger_entries;
DROP FUNCTION refuse_change();
DROP FUNCTION ledger_txns_must_balance();
DROP TABLE reservations;
DROP TABLE customers;
DROP TABLE slots;
DROP TABLE resources;
