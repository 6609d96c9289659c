package testdb

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// recorder is a test that keeps its errors and cleanups, to see what watchLog reports.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) finish() {
	for _, f := range slices.Backward(r.cleanups) {
		f()
	}
}

func TestLoggedErrorsFailTheTest(t *testing.T) {
	if os.Getenv("TALLY_PG_LOG") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TALLY_PG_LOG is not set: run the tests with `make test`")
		}
		t.Skip("TALLY_PG_LOG is not set (DATABASE_URL of one's own): the server's log is not ours to read")
	}
	run := func(sql string, allow ...string) []string {
		rec := &recorder{TB: t}
		pool := New(rec)
		AllowErrors(rec, allow...)
		_, _ = pool.Exec(context.Background(), sql) // the error is the point
		time.Sleep(50 * time.Millisecond)           // the server writes its log line as it answers
		rec.finish()
		return rec.errs
	}
	if errs := run("SELECT 1/0"); len(errs) != 1 || !strings.Contains(errs[0], "22012") {
		t.Errorf("a division by zero gave %q, want one error naming SQLSTATE 22012", errs)
	}
	if errs := run("SELECT 1/0", "22012"); len(errs) != 0 {
		t.Errorf("an allowed error gave %q", errs)
	}
	if errs := run("SELECT 1"); len(errs) != 0 {
		t.Errorf("no error gave %q", errs)
	}
}
