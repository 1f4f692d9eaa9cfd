package invoice

import (
	"fmt"
	"strings"
)

type Line struct {
	SKU   string
	Qty   int
	Cents int64
}

// Total sums the lines.
func Total(lines []Line) int64 {
	var t int64
	for _, l := range lines {
		t += int64(l.Qty) * l.Cents
	}
	return t
}

// Number formats an invoice number like INV-2024-000042.
func Number(year, seq int) string {
	return fmt.Sprintf("INV-%d-%05d", year, seq)
}

// Render prints the invoice as text.
func Render(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%-10s %3d x %8.2f\n", l.SKU, l.Qty, float64(l.Cents)/100)
	}
	fmt.Fprintf(&b, "TOTAL %.2f\n", float64(Total(lines))/100)
	return b.String()
}
