package accounts

import (
	"fmt"
	"testing"
)

func TestWithdrawWithinLimit(t *testing.T) {
	for cents := int64(1); cents <= 1500; cents += 10 {
		t.Run(fmt.Sprintf("cents_%d", cents), func(t *testing.T) {
			a := &Account{ID: "A-1", Balance: 1000, Limit: 500}
			if err := a.Withdraw(cents); err != nil {
				t.Fatalf("Withdraw(%d) with balance 1000, limit 500: %v", cents, err)
			}
		})
	}
}

func TestWithdrawOverLimit(t *testing.T) {
	a := &Account{ID: "A-2", Balance: 1000, Limit: 500}
	if err := a.Withdraw(1501); err == nil {
		t.Errorf("Withdraw(1501) with balance 1000, limit 500 succeeded, balance now %d", a.Balance)
	}
}

func TestIBANChecksum(t *testing.T) {
	cases := []struct{ country, bban, want string }{
		{"DE", "370400440532013000", "89"},
		{"GB", "NWBK60161331926819", "29"},
		{"FR", "20041010050500013M02606", "14"},
		{"NL", "ABNA0417164300", "91"},
		{"BE", "539007547034", "68"},
		{"AT", "1904300234573201", "61"},
		{"ES", "21000418450200051332", "91"},
		{"IT", "X0542811101000000123456", "60"},
		{"NO", "86011117947", "93"},
		{"FI", "12345600000785", "21"},
		{"DE", "370400440532013003", "08"},
	}
	for _, c := range cases {
		t.Run(c.country, func(t *testing.T) {
			if got := IBANChecksum(c.country, c.bban); got != c.want {
				t.Errorf("IBANChecksum(%q, %q) = %q, want %q", c.country, c.bban, got, c.want)
			}
		})
	}
}
