package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"tally/queries"
)

// A bulk load into a table costs, row by row, a lookup per foreign key, an insertion into each
// index and every row trigger. For a load as large as the table, building each index once from
// the sorted rows and checking each key with one join is several times cheaper. So a bulk load
// takes them off first and puts them back after, in its own transaction: other sessions never
// see the tables without them, and a failed load leaves everything as it was.
//
// What comes off and back is read from the catalogue, not written here, so that an index or a
// key added by a later migration is handled too and comes back with its exact definition. The
// statements are the catalogue's (pg_get_indexdef, pg_get_constraintdef), run as they come: the
// one place where seed runs SQL that sqlc cannot know in advance.

// sortMemory is the seed transaction's maintenance_work_mem: enough for an index of a million
// rows to be sorted in memory.
const sortMemory = "256MB"

// A standIn does once, after a bulk load, what an insert trigger would have done for each row
// or statement of it. A trigger is taken off for the load only when it has one.
type standIn func(context.Context, *queries.Queries) error

// offline is what a bulk load took off, and how to put it back.
type offline struct {
	create, comment []string // in the order to run them
	standIns        []standIn
	progress        func(string, ...any)
}

// takeOffline drops the foreign keys of tables and those pointing at them, their indexes that
// back no constraint, and the insert triggers that standIns replace (keyed by trigger name).
// Other insert triggers stay and fire as usual.
func takeOffline(ctx context.Context, tx pgx.Tx, q *queries.Queries, tables []string, standIns map[string]standIn, progress func(string, ...any)) (*offline, error) {
	off := &offline{progress: progress}
	items, err := q.SeedOfflineList(ctx, tables)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if _, err := tx.Exec(ctx, it.DropSql); err != nil {
			return nil, fmt.Errorf("taking off %s %s: %w", it.Kind, it.Name, err)
		}
		// Recreated in the reverse order: indexes first, then the keys that may need them.
		off.create = append([]string{it.CreateSql}, off.create...)
		if it.CommentSql != "" {
			off.comment = append(off.comment, it.CommentSql)
		}
	}
	triggers, err := q.SeedInsertTriggerList(ctx, tables)
	if err != nil {
		return nil, err
	}
	for _, t := range triggers {
		check, ok := standIns[t.Name]
		if !ok {
			continue
		}
		if _, err := tx.Exec(ctx, t.DropSql); err != nil {
			return nil, fmt.Errorf("taking off trigger %s: %w", t.Name, err)
		}
		off.create = append(off.create, t.CreateSql)
		if t.CommentSql != "" {
			off.comment = append(off.comment, t.CommentSql)
		}
		off.standIns = append(off.standIns, check)
	}
	return off, nil
}

// putBack runs the triggers' stand-ins, then recreates the indexes, the keys (each checked
// with one join over its table) and the triggers.
func (off *offline) putBack(ctx context.Context, tx pgx.Tx, q *queries.Queries) error {
	start := time.Now()
	for _, check := range off.standIns {
		if err := check(ctx, q); err != nil {
			return err
		}
	}
	if len(off.standIns) > 0 {
		off.progress("  checked in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	start = time.Now()
	for _, sql := range off.create {
		began := time.Now()
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("putting back %q: %w", sql, err)
		}
		if took := time.Since(began); took >= time.Second {
			off.progress("    %s: %s\n", took.Round(100*time.Millisecond), sql)
		}
	}
	for _, sql := range off.comment {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("putting back %q: %w", sql, err)
		}
	}
	if len(off.create) > 0 {
		off.progress("  %d indexes, keys and triggers rebuilt in %s\n", len(off.create), time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}
