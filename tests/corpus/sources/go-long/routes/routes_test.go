package routes

import (
	"fmt"
	"testing"
)

func TestOrder(t *testing.T) {
	for n := 1; n <= 260; n++ {
		n := n
		t.Run(fmt.Sprintf("stops_%d", n), func(t *testing.T) {
			stops := map[string]int{}
			for i := 0; i < n; i++ {
				stops[fmt.Sprintf("S%03d", i)] = n - i
			}
			got := Order(stops)
			if len(got) != n || got[0] != fmt.Sprintf("S%03d", n-1) {
				t.Fatalf("Order(%d stops) starts with %v", n, got[:1])
			}
		})
	}
}
