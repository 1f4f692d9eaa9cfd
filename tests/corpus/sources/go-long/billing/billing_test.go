package billing

import (
	"fmt"
	"testing"
)

func TestLineTotal(t *testing.T) {
	for qty := int64(1); qty <= 12; qty++ {
		for _, pct := range []int64{0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 100} {
			qty, pct := qty, pct
			t.Run(fmt.Sprintf("qty%d_pct%d", qty, pct), func(t *testing.T) {
				got := LineTotal(qty, 1000, pct)
				if got < 0 || got > qty*1000 {
					t.Fatalf("LineTotal(%d, 1000, %d) = %d", qty, pct, got)
				}
			})
		}
	}
}
