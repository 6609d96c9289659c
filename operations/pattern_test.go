package operations_test

import (
	"context"
	"testing"

	"tally/internal/testdb"
)

// TestErrorPattern checks the masking that failure groups are made by (job_error_pattern,
// migration 00006): what varies from job to job is masked, what says which failure it is
// (the path, the HTTP status, the words) is kept.
func TestErrorPattern(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	for _, c := range []struct{ in, want string }{
		{"partner /payouts: 503 partner outage", "partner /payouts: 503 partner outage"},
		{`partner /payouts: Post "http://127.0.0.1:43567/payouts": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
			`partner /payouts: Post "http://<addr>/payouts": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`},
		{`partner /notices: Post "http://[::1]:8081/notices": dial tcp [::1]:8081: connect: connection refused`,
			`partner /notices: Post "http://<addr>/notices": dial tcp <addr>: connect: connection refused`},
		{"dial tcp partner.internal:8081: i/o timeout", "dial tcp <addr>: i/o timeout"},
		{`JobCancelError: partner refused the request: 422 {"error":"reservation 42 is unknown"}`,
			`JobCancelError: partner refused the request: 422 {"error":"reservation <n> is unknown"}`},
		{"partner circuit open: next try in 1.234s", "partner circuit open: next try in <n>s"},
		{"reservation 9f1c2b3a-1111-2222-3333-444455556666 for cleo-12@example.com failed", "reservation <uuid> for <email> failed"},
		{"job 12345 failed after 3 attempts, key payout-77, hash deadbeefcafe1234", "job <n> failed after <n> attempts, key payout-<n>, hash <hex>"},
		{"status 500 from upstream, code 404", "status 500 from upstream, code 404"},
		{"  multi\n  line\terror ", "multi line error"},
		{"no digits at all", "no digits at all"},
	} {
		var got string
		if err := pool.QueryRow(context.Background(), "SELECT job_error_pattern($1)", c.in).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("job_error_pattern(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	// Two payouts failing alike are one group; a different status is another.
	var same, different bool
	if err := pool.QueryRow(context.Background(), `SELECT
		job_error_pattern('partner /payouts: Post "http://10.0.0.7:1234/payouts": EOF') = job_error_pattern('partner /payouts: Post "http://10.0.0.9:99/payouts": EOF'),
		job_error_pattern('partner /payouts: 503 x') = job_error_pattern('partner /payouts: 502 x')`).Scan(&same, &different); err != nil {
		t.Fatal(err)
	}
	if !same || different {
		t.Errorf("same failure, other addresses: one group = %v (want true); 503 and 502: one group = %v (want false)", same, different)
	}
}
