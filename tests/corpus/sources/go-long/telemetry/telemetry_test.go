package telemetry

import (
	"fmt"
	"testing"
)

func TestMeanOfConstant(t *testing.T) {
	for n := 0; n < 250; n++ {
		n := n
		t.Run(fmt.Sprintf("n%d", n), func(t *testing.T) {
			readings := make([]float64, n)
			for i := range readings {
				readings[i] = 21.5
			}
			if got := Mean(readings); n > 0 && got != 21.5 {
				t.Fatalf("Mean of %d x 21.5 = %f", n, got)
			}
		})
	}
}
