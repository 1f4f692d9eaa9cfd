package vehicles

import (
	"fmt"
	"testing"
)

func TestValidPlate(t *testing.T) {
	for n := 1000; n < 9999; n += 37 {
		n := n
		t.Run(fmt.Sprintf("B-%d", n), func(t *testing.T) {
			if !ValidPlate(fmt.Sprintf("B-%d", n)) {
				t.Fatalf("plate B-%d rejected", n)
			}
		})
	}
}
