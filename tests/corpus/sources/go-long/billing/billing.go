// Package billing computes invoice lines.
package billing

// LineTotal is qty*unit minus a percentage discount, rounded half up.
func LineTotal(qty, unit, discountPct int64) int64 {
	gross := qty * unit
	return gross - (gross*discountPct+50)/100
}
