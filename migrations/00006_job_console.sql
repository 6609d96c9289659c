-- +goose Up

-- The jobs console groups failed jobs by kind and by their last error with the parts that
-- differ from job to job masked (ids, numbers, UUIDs, emails, addresses), so that 400 payouts
-- failing for one reason are one line. The grouping (queries/river_jobs.sql) and the action on
-- a group (a River JobList / JobDeleteMany Where clause in package operations) must mask alike:
-- both call these functions, so there is one definition.

-- job_last_error is the error of a River job's latest failed attempt; NULL when none failed.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION job_last_error(errors jsonb[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT errors[cardinality(errors)] ->> 'error'
$$;
-- +goose StatementEnd

-- job_error_pattern masks what varies in an error message, in this order: UUIDs, emails,
-- network addresses (IPv4 and IPv6 with their ports, host:port), hexadecimal words (keys,
-- hashes), then every number except an HTTP status after ": ", "status " or "code ", which is
-- the failure's class ("503" and "422" are different problems). Whitespace is collapsed and
-- the pattern cut at 200 characters. The kept statuses are marked with '§' while numbers are
-- masked, then unmarked.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION job_error_pattern(message text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT left(btrim(
        regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
            message,
            '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'),
            '[^[:space:]@"<>(),;]+@[^[:space:]@"<>(),;]+\.[[:alpha:]]+', '<email>', 'g'),
            '\m[0-9]{1,3}(\.[0-9]{1,3}){3}(:[0-9]+)?|\[[0-9a-fA-F:.]+\](:[0-9]+)?|\m[[:alpha:]][[:alnum:].-]*:[0-9]{2,5}\M', '<addr>', 'g'),
            '\m[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\M|\m[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\M', '<hex>', 'g'),
            '(: |status |code )([1-5])([0-9])([0-9])(?![0-9.])', '\1§\2§\3§\4', 'g'),
            '(?<!§)[0-9]+(\.[0-9]+)?', '<n>', 'g'),
            '§', '', 'g'),
            '[[:space:]]+', ' ', 'g')), 200)
$$;
-- +goose StatementEnd

-- job_duration_bucket is the bucket of a duration in the console's latency histograms: four
-- buckets per doubling from one millisecond (bucket 0 holds everything up to 1 ms), so that a
-- percentile read from the buckets is within a fifth of the true value, and a day of them is
-- a few rows per minute and kind. In double precision: numeric logarithms would cost more
-- than the rest of the query.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION job_duration_bucket(d interval) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(160, floor(4 * log(greatest(extract(epoch FROM d)::double precision * 1000, 1)) / log(2::double precision)))::integer
$$;
-- +goose StatementEnd

-- The overview counts jobs per state and queue. Finished jobs (a million of them) are not
-- counted but estimated, from these statistics of the two columns together: ANALYZE keeps the
-- most common (state, queue) pairs with their share of the table.
CREATE STATISTICS IF NOT EXISTS river_job_state_queue_stats (mcv) ON state, queue FROM river_job;

-- +goose Down
DROP STATISTICS IF EXISTS river_job_state_queue_stats;
DROP FUNCTION IF EXISTS job_duration_bucket(interval);
DROP FUNCTION IF EXISTS job_error_pattern(text);
DROP FUNCTION IF EXISTS job_last_error(jsonb[]);
