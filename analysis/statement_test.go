package analysis

import (
	"strings"
	"testing"

	"tally"
)

func TestCheckStatement(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		"SELECT 1;":                              "SELECT 1",
		"  -- a comment\n  select 1 ; -- done\n": "-- a comment\n  select 1",
		"/* a /* nested */ comment */ WITH x AS (SELECT 1) SELECT * FROM x": "/* a /* nested */ comment */ WITH x AS (SELECT 1) SELECT * FROM x",
		"SELECT 'DELETE FROM x; set_config' AS s":                           "SELECT 'DELETE FROM x; set_config' AS s",
		"SELECT $$ ; UPDATE $$, $tag$ FOR UPDATE $tag$":                     "SELECT $$ ; UPDATE $$, $tag$ FOR UPDATE $tag$",
		"SELECT E'it\\'s; (delete' AS s":                                    "SELECT E'it\\'s; (delete' AS s",
		"SELECT \"for\" FROM t WHERE a = $1 AND b = $2":                     "SELECT \"for\" FROM t WHERE a = $1 AND b = $2",
		"(SELECT 1) UNION (SELECT 2)":                                       "(SELECT 1) UNION (SELECT 2)",
		"VALUES (1), (2)":                                                   "VALUES (1), (2)",
		"TABLE reservations":                                                "TABLE reservations",
		"SELECT updated_at FROM reservations -- for update":                 "SELECT updated_at FROM reservations -- for update",
	}
	for in, want := range ok {
		got, err := CheckStatement(in)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	refused := map[string]string{
		"":                              "Paste a statement",
		" ; ":                           "Paste a statement",
		"SELECT 1; SELECT 2":            "one statement at a time",
		"SELECT 1; -- x\n; SELECT 2":    "one statement at a time",
		"delete from reservations":      "DELETE is not a read-only statement",
		"explain select 1":              "without EXPLAIN",
		"SELECT * FROM t FOR SHARE":     "FOR SHARE locks",
		"SELECT * FROM t FOR KEY SHARE": "FOR KEY locks",
		"WITH d AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM d": "data-modifying WITH",
		"SELECT pg_catalog.set_config('role', 'none', true)":               "set_config",
		`SELECT "set_config"('role', 'none', true)`:                        "set_config",
		"SELECT dblink_exec('x', 'y')":                                     "another database",
		"SELECT pg_try_advisory_lock(1)":                                   "outlives the transaction",
		"SELECT u&'\\0041'":                                                "Unicode escapes",
		"SELECT 'unclosed":                                                 "not closed",
		"SELECT /* unclosed":                                               "not closed",
		"SELECT $x$ unclosed":                                              "not closed",
		"SELECT $101":                                                      "at most 100 parameters",
		"hello":                                                            "starts with SELECT",
		"SELECT 1\x00":                                                     "not text",
		strings.Repeat("x", MaxStatement+1):                                "too long",
	}
	for in, want := range refused {
		_, err := CheckStatement(in)
		if err == nil || tally.ErrorCode(err) == tally.EINTERNAL || !strings.Contains(tally.ErrorMessage(err), want) {
			t.Errorf("%.40q: %v, want %q", in, err, want)
		}
	}
}

func TestNormalizeParams(t *testing.T) {
	t.Parallel()
	ok := []struct {
		oid     uint32
		in, out string
	}{
		{oidInt8, " 42 ", "42"}, {oidInt4, "-7", "-7"}, {oidText, "Cleo", "Cleo"}, {oidBool, "yes", "true"},
		{oidDate, "2026-01-31", "2026-01-31"}, {oidTimestamptz, "2026-01-31 14:00", "2026-01-31T14:00:00Z"},
		{oidTimestamptz, "2026-01-31T14:00:00+01:00", "2026-01-31T13:00:00Z"}, {oidNumeric, "12.50", "12.5"},
		{oidInt8Array, "1, 2,3", "{1,2,3}"}, {oidInt8Array, "{4,5}", "{4,5}"},
		{oidTextArray, `held, "approved", a"b`, `{"held","approved","a\"b"}`},
		{oidUUID, "6F9619FF-8B86-D011-B42D-00C04FC964FF", "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
	}
	for _, c := range ok {
		got, err := normalize("p", c.oid, c.in)
		if err != nil || got != c.out {
			t.Errorf("%d %q: %q, %v", c.oid, c.in, got, err)
		}
	}
	for _, c := range []struct {
		oid uint32
		in  string
	}{{oidInt4, "99999999999"}, {oidInt8, "1e3"}, {oidInt8, "x"}, {oidDate, "2026-02-30"}, {oidTimestamptz, "tomorrow"},
		{oidBool, "maybe"}, {oidNumeric, "NaN"}, {oidInt8Array, "1,x"}, {oidUUID, "nope"}, {oidText, strings.Repeat("a", 2001)}, {600, "(1,2)"}} {
		if _, err := normalize("p", c.oid, c.in); tally.ErrorCode(err) != tally.EINVALID {
			t.Errorf("%d %q: %v", c.oid, c.in, err)
		}
	}
}

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"SlotID": "slot_id", "ID": "id", "RowLimit": "row_limit", "AfterStatusKey": "after_status_key",
		"SearchID": "search_id", "BeforeAmountCents": "before_amount_cents", "Since": "since"} {
		if got := snake(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}
