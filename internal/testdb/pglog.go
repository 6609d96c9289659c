package testdb

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Errors a request may cause in PostgreSQL as part of normal work: a unique key that says
// "already exists", and the deadlocks and serialization failures that are retried.
var expectedErrors = []string{"23505", "40P01", "40001", "55P03"}

var (
	allowedMu sync.Mutex
	allowed   = map[testing.TB][]string{}
)

// AllowErrors lets t cause PostgreSQL errors with these SQLSTATEs on purpose (a test of a
// constraint or a timeout), on top of the expected conflicts.
func AllowErrors(t testing.TB, codes ...string) {
	allowedMu.Lock()
	defer allowedMu.Unlock()
	allowed[t] = append(allowed[t], codes...)
}

// logLine matches the prefix scripts/pg.sh gives the server's log lines.
var logLine = regexp.MustCompile(`db=(\S*) code=(\S+) ERROR:\s+(.*)$`)

// watchLog fails t, when it ends, for every ERROR the PostgreSQL log records in database
// name, other than the expected ones: a 4xx can hide a database error that a test would never
// see otherwise. It reads the log named by TALLY_PG_LOG (scripts/pg.sh sets it); without it
// (a DATABASE_URL of one's own) there is nothing to read.
func watchLog(t testing.TB, name string) {
	path := os.Getenv("TALLY_PG_LOG")
	if path == "" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Logf("testdb: not reading the PostgreSQL log: %v", err)
		return
	}
	start, err := f.Seek(0, io.SeekEnd)
	f.Close()
	if err != nil {
		return
	}
	t.Cleanup(func() {
		allowedMu.Lock()
		ok := append(slices.Clone(expectedErrors), allowed[t]...)
		delete(allowed, t)
		allowedMu.Unlock()
		for _, e := range logErrors(path, start, name) {
			if !slices.Contains(ok, e.code) {
				t.Errorf("PostgreSQL logged an error this test caused (SQLSTATE %s): %s", e.code, e.text)
			}
		}
	})
}

type logError struct{ code, text string }

// logErrors returns the errors logged for database name from offset on.
func logErrors(path string, offset int64, name string) []logError {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil
	}
	var found []logError
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "db="+name+" ") {
			continue
		}
		if m := logLine.FindStringSubmatch(line); m != nil {
			found = append(found, logError{code: m[2], text: m[3]})
		}
	}
	return found
}
