package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"tally"
	"tally/reservations"
	"tally/views"
)

// The parsers of user input must never panic, must refuse with EINVALID and a sentence, and
// what they accept must be within bounds. `make fuzz` runs these with a time budget; `make
// test` runs their seeds and the corpus kept in testdata/fuzz.

func contextFor(query string, form url.Values) echo.Context {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.URL.RawQuery = query // as the client sent it, whatever it holds
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	return echo.New().NewContext(req, httptest.NewRecorder())
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	if code := tally.ErrorCode(err); code != tally.EINVALID {
		t.Fatalf("refused with code %q (%v), want %q", code, err, tally.EINVALID)
	}
	if msg := tally.ErrorMessage(err); msg == "" || !utf8.ValidString(msg) {
		t.Fatalf("refusal without a readable message: %q", msg)
	}
}

func FuzzListFilter(f *testing.F) {
	for _, q := range []string{"", "status=held", "q=%2342", "q=kim&sort=oldest&cursor=10", "from=2026-01-31&to=2026-02-01",
		"resource=-1", "slot=99999999999999999999", "q=%FF", "status=held&status=bogus", "cursor=abc", "to=9999-12-31"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		lf, err := parseListFilter(contextFor(query, nil))
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if s := lf.filter.Status; s != nil && !slices.Contains(reservations.Statuses, *s) {
			t.Fatalf("accepted status %q", *s)
		}
		for _, id := range []*int64{lf.filter.ID, lf.filter.SlotID, lf.filter.ResourceID, lf.filter.Customer} {
			if id != nil && *id <= 0 && id != lf.filter.ID {
				t.Fatalf("accepted id %d", *id)
			}
		}
		if s := lf.filter.Search; s != nil && utf8.RuneCountInString(*s) > maxSearch {
			t.Fatalf("accepted a search of %d characters", utf8.RuneCountInString(*s))
		}
		if u, err := url.Parse(lf.url()); err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/reservations") {
			t.Fatalf("list address %q: %v", lf.url(), err)
		}
	})
}

func FuzzNewReservation(f *testing.F) {
	f.Add("1", "2", "3")
	f.Add("0", "-1", "99999999999")
	f.Add(" 1", "1e3", "१")
	f.Fuzz(func(t *testing.T, slot, customer, seats string) {
		n, err := parseNewReservation(views.NewReservationForm{SlotID: slot, CustomerID: customer, Seats: seats})
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if n.SlotID <= 0 || n.CustomerID <= 0 || n.Seats < 1 || n.Seats > reservations.MaxSeats {
			t.Fatalf("accepted %+v", n)
		}
	})
}

func FuzzBulkIDs(f *testing.F) {
	f.Add("1", "2")
	f.Add("", "x")
	f.Add("-1", "9223372036854775808")
	f.Fuzz(func(t *testing.T, a, b string) {
		ids, err := parseBulkIDs(contextFor("", url.Values{"id": {a, b}}))
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if len(ids) == 0 || len(ids) > 2 || slices.ContainsFunc(ids, func(id int64) bool { return id <= 0 }) {
			t.Fatalf("accepted %v from %q, %q", ids, a, b)
		}
	})
}

func FuzzAuditFilter(f *testing.F) {
	f.Add("actor=kim%40example.com&record_id=4")
	f.Add("before=0")
	f.Add("record_type=" + strings.Repeat("x", 300))
	f.Fuzz(func(t *testing.T, query string) {
		_, af, err := parseAuditFilter(contextFor(query, nil))
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if af.RecordID < 0 || af.BeforeID < 0 || af.Limit <= 0 {
			t.Fatalf("accepted %+v", af)
		}
	})
}

func FuzzIdempotencyKey(f *testing.F) {
	f.Add("0123456789abcdef")
	f.Add("éééé")
	f.Add("short")
	f.Add("key with spaces")
	f.Fuzz(func(t *testing.T, key string) {
		if !reservations.ValidKey(key) {
			return
		}
		// Whatever is accepted fits the database's CHECK (8 to 200 characters) as text.
		if n := utf8.RuneCountInString(key); !utf8.ValidString(key) || n < 8 || n > 200 || strings.ContainsAny(key, " \t\r\n\x00") {
			t.Fatalf("accepted key %q", key)
		}
	})
}

func FuzzJobFilter(f *testing.F) {
	f.Add("state=retryable&kind=partner_payout&reservation=%2342")
	f.Add("state=bogus")
	f.Add("error=%FF&cursor=" + strings.Repeat("x", 2000))
	f.Add("reservation=-1&pattern=%25")
	f.Fuzz(func(t *testing.T, query string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return // not a query string a browser sends
		}
		jf, err := jobFilterOf(v)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if jf.filter.ReservationID < 0 || len(jf.cursor) > 1000 {
			t.Fatalf("accepted %+v", jf.filter)
		}
		if u, err := url.Parse(jf.url("")); err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("list address %q: %v", jf.url(""), err)
		}
	})
}
