package catalog

import (
	"fmt"
	"strings"
	"testing"
)

func TestSKU(t *testing.T) {
	for _, family := range []string{"TYR", "BRK", "OIL", "FLT"} {
		for n := 0; n < 100000; n += 1999 {
			family, n := family, n
			t.Run(fmt.Sprintf("%s_%d", family, n), func(t *testing.T) {
				s := SKU(family, n)
				if len(s) != 9 || !strings.HasPrefix(s, family+"-") {
					t.Fatalf("SKU(%q, %d) = %q", family, n, s)
				}
			})
		}
	}
}
