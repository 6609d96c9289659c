package reservations_test

import (
	"testing"

	"tally/reservations"
)

func TestMoney(t *testing.T) {
	for cents, want := range map[int64]string{
		0: "EUR 0.00", 5: "EUR 0.05", 1250: "EUR 12.50", 405000: "EUR 4,050.00",
		3124000: "EUR 31,240.00", 123456789: "EUR 1,234,567.89", -100050: "-EUR 1,000.50",
	} {
		if got := reservations.Money(cents, "EUR"); got != want {
			t.Errorf("Money(%d) = %q, want %q", cents, got, want)
		}
	}
}
