package pricing

import "math"

// Discount applies a percentage discount and rounds to the cent.
func Discount(cents int64, percent float64) int64 {
	return int64(math.Round(float64(cents) * (1 - percent/100)))
}

// Tier returns the volume tier for a quantity.
func Tier(qty int) string {
	switch {
	case qty >= 1000:
		return "wholesale"
	case qty >= 100:
		return "bulk"
	case qty > 10:
		return "pack"
	default:
		return "unit"
	}
}
