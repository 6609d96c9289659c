-- The bench's own SQL: the data it sets up and the figures it reads back. Tally's queries
-- stay in queries/; these touch only the bench's own database. Each statement is named by
-- the line before it.

-- name: BenchResource
INSERT INTO resources (name, kind) VALUES ($1, 'hall') RETURNING id;

-- name: BenchSlots
-- Slots a month ahead, count of them, each with capacity seats of which reserved taken.
INSERT INTO slots (resource_id, starts_at, capacity, reserved, price_cents)
SELECT $1, now() + interval '30 days' + g * interval '1 hour', $3, $4, 2500
FROM generate_series(1, $2::int) g
RETURNING id;

-- name: HeldReservations
-- perSlot held reservations of one seat on each of the resource's slots (which count them
-- as reserved), their holds a day long: ids in one contiguous range, returned as min, max
-- and count so the caller can check it.
WITH cs AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM customers ORDER BY id LIMIT 1000
), ncs AS (SELECT count(*) AS n FROM cs),
ins AS (
    INSERT INTO reservations (slot_id, customer_id, seats, amount_cents, currency, status, hold_expires_at)
    SELECT s.id, cs.id, 1, 2500, 'EUR', 'held', now() + interval '1 day'
    FROM slots s CROSS JOIN generate_series(0, $2::int - 1) g CROSS JOIN ncs
    JOIN cs ON cs.n = (s.id * 7 + g) % ncs.n
    WHERE s.resource_id = $1
    ORDER BY s.id, g
    RETURNING id
)
SELECT min(id), max(id), count(*) FROM ins;

-- name: Customers
SELECT id FROM customers ORDER BY id LIMIT $1;

-- name: UserID
SELECT id FROM users WHERE email = $1;

-- name: ApprovedInRange
SELECT count(*) FROM reservations WHERE id BETWEEN $1 AND $2 AND status = 'approved';

-- name: SlotCheck
-- The no-oversell invariant on one slot: its seats against its capacity and against the
-- seats of its live reservations.
SELECT s.capacity, s.reserved,
       coalesce((SELECT sum(seats) FROM reservations r
                 WHERE r.slot_id = s.id AND r.status IN ('held', 'approved', 'settled')), 0)::int,
       (SELECT count(*) FROM reservations r WHERE r.slot_id = s.id)::int
FROM slots s WHERE s.id = $1;

-- name: AllSlotsCheck
-- The same invariant on every slot: how many are over capacity, and how many count other
-- seats than their live reservations hold.
SELECT count(*) FILTER (WHERE s.reserved > s.capacity),
       count(*) FILTER (WHERE s.reserved <> coalesce(r.seats, 0)),
       count(*)
FROM slots s
LEFT JOIN (SELECT slot_id, sum(seats) AS seats FROM reservations
           WHERE status IN ('held', 'approved', 'settled') GROUP BY slot_id) r ON r.slot_id = s.id;

-- name: JobMaxID
SELECT coalesce(max(id), 0) FROM river_job;

-- name: JobsSince
-- The notices inserted after a job id: when each was inserted, started and finished.
SELECT created_at, attempted_at, finalized_at FROM river_job
WHERE id > $1 AND kind = 'notify_customer' ORDER BY id;

-- name: PageSubjects
-- What the pages are asked about: a resource, a settled reservation, a failed job and a
-- customer's name to search for.
SELECT (SELECT resource_id FROM slots GROUP BY resource_id ORDER BY count(*) DESC LIMIT 1),
       coalesce((SELECT max(id) FROM reservations WHERE status = 'settled'), (SELECT max(id) FROM reservations)),
       coalesce((SELECT max(id) FROM river_job WHERE state = 'discarded'), (SELECT max(id) FROM river_job), 0),
       (SELECT name FROM customers ORDER BY id LIMIT 1 OFFSET 100);

-- name: AnalyzeReservations
ANALYZE reservations;

-- name: ResetHeld
-- Puts the bench's approvals back on hold between runs (not measured).
UPDATE reservations SET status = 'held', approved_by = NULL, approved_at = NULL, version = version + 1, updated_at = now()
WHERE id BETWEEN $1 AND $2 AND status = 'approved';
