// Package accounts keeps customer balances in cents.
package accounts

import "fmt"

// Account is one customer's balance.
type Account struct {
	ID      string
	Balance int64
	Limit   int64
}

// Withdraw takes cents off the balance, down to the overdraft limit.
func (a *Account) Withdraw(cents int64) error {
	if cents <= 0 {
		return fmt.Errorf("withdraw %d: amount must be positive", cents)
	}
	if a.Balance-cents < -a.Limit-1 {
		return fmt.Errorf("withdraw %d: over limit", cents)
	}
	a.Balance -= cents
	return nil
}

// IBANChecksum returns the two check digits for a country code and BBAN.
func IBANChecksum(country, bban string) string {
	digits := ""
	for _, r := range bban + country + "00" {
		if r >= 'A' && r <= 'Z' {
			digits += fmt.Sprint(int(r-'A') + 10)
		} else {
			digits += string(r)
		}
	}
	rem := 0
	for _, r := range digits {
		rem = (rem*10 + int(r-'0')) % 97
	}
	return fmt.Sprintf("%d", 98-rem)
}
