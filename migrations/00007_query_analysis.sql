-- +goose Up

-- Query analysis (DESIGN §6) runs an engineer's statement under EXPLAIN ANALYZE. The statement
-- runs in a read-only transaction that is always rolled back, and under this role (SET LOCAL
-- ROLE), which may read the business tables and nothing else: not users, sessions, sign-in
-- records or idempotency keys. Roles belong to the cluster, not to one database, and every
-- test database runs this migration: so the role is made only when missing, and a concurrent
-- maker's win is not an error. The migrating user is made a member, so that the application
-- (which runs as that user) may SET ROLE to it.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tally_query_analysis') THEN
        BEGIN
            CREATE ROLE tally_query_analysis NOLOGIN NOINHERIT;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN
                NULL; -- made by another database's migration at the same moment
            WHEN insufficient_privilege THEN
                -- Nothing of this migration is applied yet: it can run again once the role exists.
                RAISE EXCEPTION 'query analysis needs the role tally_query_analysis, which % may not create', current_user
                    USING HINT = 'A superuser runs: CREATE ROLE tally_query_analysis NOLOGIN; then migrate again.';
        END;
    END IF;
    IF NOT pg_catalog.pg_has_role(current_user, 'tally_query_analysis', 'MEMBER') THEN
        -- A user without CREATEROLE (or the role's admin option) cannot join it; the rest of
        -- Tally works, and the query console says what a superuser must grant.
        BEGIN
            EXECUTE format('GRANT tally_query_analysis TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'query analysis needs: GRANT tally_query_analysis TO %', current_user;
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO tally_query_analysis', current_schema());
END
$$;
-- +goose StatementEnd

-- The business tables, and River's jobs and queues (the job console's aggregates read them).
GRANT SELECT ON resources, slots, customers, reservations, ledger_entries, audit_events,
    settlement_reports, partner_circuit TO tally_query_analysis;
-- +goose StatementBegin
DO $$
BEGIN
    -- River's tables are made by River's migrator, before this one; a database migrated
    -- without them (a partial restore) still gets the rest.
    IF to_regclass('river_job') IS NOT NULL THEN
        GRANT SELECT ON river_job TO tally_query_analysis;
    END IF;
    IF to_regclass('river_queue') IS NOT NULL THEN
        GRANT SELECT ON river_queue TO tally_query_analysis;
    END IF;
END
$$;
-- +goose StatementEnd

-- HypoPG gives the planner hypothetical indexes, for the comparison's hypothetical mode. It is
-- made here when the server has the package (postgresql-<major>-hypopg) and the migrating
-- user may create it; otherwise the console says what is missing, and the real mode still
-- works.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'hypopg') THEN
        CREATE EXTENSION IF NOT EXISTS hypopg;
    END IF;
EXCEPTION WHEN insufficient_privilege OR duplicate_object OR unique_violation THEN
    RAISE NOTICE 'hypopg not created: %', SQLERRM;
END
$$;
-- +goose StatementEnd

-- Saved comparisons: plan A (today's indexes) against plan B (with a candidate index), with
-- everything needed to show them again and to run them again on later data. A real-mode
-- comparison is written while it runs (status 'running', its phase and heartbeat), so that any
-- web replica can show its progress; one whose heartbeat stopped was abandoned by its process.
CREATE TABLE query_comparisons (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The catalogue query's name, or '' for a pasted statement.
    query_name   text        NOT NULL CHECK (length(query_name) <= 100),
    statement    text        NOT NULL CHECK (length(statement) BETWEEN 1 AND 20000),
    -- The parameters as given: [{"name": …, "type": …, "value": … or null}].
    params       jsonb       NOT NULL DEFAULT '[]',
    -- The candidate index as chosen (table, columns, include, predicate) and its DDL.
    candidate    jsonb       NOT NULL,
    candidate_ddl text       NOT NULL,
    mode         text        NOT NULL CHECK (mode IN ('hypothetical', 'real')),
    runs         integer     NOT NULL CHECK (runs BETWEEN 0 AND 500),
    status       text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    -- What a running comparison is doing now, e.g. "building the index: scanning table 40%".
    phase        text        NOT NULL DEFAULT '',
    -- How far the phase has got, from 0 to 1 (the index build's blocks, the runs done).
    progress     real        NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    -- The EXPLAIN output of each side as PostgreSQL wrote it (json keeps it byte for byte).
    plan_a       json,
    plan_b       json,
    -- The measured and predicted figures (package analysis's Outcome, as JSON).
    outcome      jsonb,
    error        text,
    rerun_of     bigint      REFERENCES query_comparisons (id),
    created_by   bigint      REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK (status = 'running' OR finished_at IS NOT NULL)
);
CREATE INDEX query_comparisons_rerun_idx ON query_comparisons (rerun_of) WHERE rerun_of IS NOT NULL;

-- +goose Down
DROP TABLE query_comparisons;
DROP EXTENSION IF EXISTS hypopg;
-- The role belongs to the cluster, where other databases may still use it: only this
-- database's grants go.
REVOKE SELECT ON resources, slots, customers, reservations, ledger_entries, audit_events,
    settlement_reports, partner_circuit FROM tally_query_analysis;
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('river_job') IS NOT NULL THEN
        REVOKE SELECT ON river_job FROM tally_query_analysis;
    END IF;
    IF to_regclass('river_queue') IS NOT NULL THEN
        REVOKE SELECT ON river_queue FROM tally_query_analysis;
    END IF;
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM tally_query_analysis', current_schema());
END
$$;
-- +goose StatementEnd
