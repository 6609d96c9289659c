package reservations

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"tally"
)

// FuzzCursor: a page link's cursor, whatever a client makes of it, is read back or refused
// with EINVALID, never a panic; and every cursor the list makes reads back to its row's place.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"42", "2026-01-31T10:00:00Z~42", "2500~7", "held~9", "Ana ~ Lee~3", "~", "x~-1", "9223372036854775808"} {
		f.Add(s, int64(7), "Ana~Lee", int64(2500))
	}
	f.Fuzz(func(t *testing.T, raw string, id int64, name string, amount int64) {
		for _, key := range SortKeys {
			if _, err := parseCursor(key, raw); err != nil && tally.ErrorCode(err) != tally.EINVALID {
				t.Fatalf("%s cursor %q: %v", key, raw, err)
			}
		}
		if id <= 0 || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 200 {
			return
		}
		row := ListRow{Reservation: Reservation{ID: id, AmountCents: amount, Status: "held"}, Customer: name,
			SlotStartsAt: time.Unix(id%4e9, 0).UTC()}
		for _, key := range SortKeys {
			c, err := parseCursor(key, row.Cursor(key))
			if err != nil {
				t.Fatalf("%s: the list's own cursor %q is refused: %v", key, row.Cursor(key), err)
			}
			if c.id != id || key == SortCustomer && c.text != name || key == SortAmount && c.amount != amount ||
				key == SortSlot && !c.at.Equal(row.SlotStartsAt) || key == SortStatus && !strings.EqualFold(c.text, "held") {
				t.Fatalf("%s: cursor %q read back as %+v", key, row.Cursor(key), *c)
			}
		}
	})
}
