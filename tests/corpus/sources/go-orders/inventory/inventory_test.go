package inventory

import (
	"errors"
	"testing"
)

func TestTakeLevels(t *testing.T) {
	skus := []string{"SKU-0000", "SKU-0001", "SKU-0002", "SKU-0003", "SKU-0004", "SKU-0005", "SKU-0006", "SKU-0007", "SKU-0008", "SKU-0009", "SKU-0010", "SKU-0011", "SKU-0012", "SKU-0013", "SKU-0014", "SKU-0015", "SKU-0016", "SKU-0017", "SKU-0018", "SKU-0019", "SKU-0020", "SKU-0021", "SKU-0022", "SKU-0023", "SKU-0024", "SKU-0025", "SKU-0026", "SKU-0027", "SKU-0028", "SKU-0029", "SKU-0030", "SKU-0031", "SKU-0032", "SKU-0033", "SKU-0034", "SKU-0035", "SKU-0036", "SKU-0037", "SKU-0038", "SKU-0039", "SKU-0040", "SKU-0041", "SKU-0042", "SKU-0043", "SKU-0044", "SKU-0045", "SKU-0046", "SKU-0047", "SKU-0048", "SKU-0049", "SKU-0050", "SKU-0051", "SKU-0052", "SKU-0053", "SKU-0054", "SKU-0055", "SKU-0056", "SKU-0057", "SKU-0058", "SKU-0059", "SKU-0060", "SKU-0061", "SKU-0062", "SKU-0063", "SKU-0064", "SKU-0065", "SKU-0066", "SKU-0067", "SKU-0068", "SKU-0069", "SKU-0070", "SKU-0071", "SKU-0072", "SKU-0073", "SKU-0074", "SKU-0075", "SKU-0076", "SKU-0077", "SKU-0078", "SKU-0079"}
	for i, sku := range skus {
		sku, n := sku, i+1
		t.Run(sku, func(t *testing.T) {
			s := New()
			s.Add(sku, n*2)
			if err := s.Take(sku, n); err != nil {
				t.Fatalf("Take(%s, %d): %v", sku, n, err)
			}
			if s.Level(sku) != n {
				t.Fatalf("Level(%s) = %d, want %d", sku, s.Level(sku), n)
			}
		})
	}
}

func TestTakeInsufficient(t *testing.T) {
	s := New()
	s.Add("A", 1)
	if err := s.Take("A", 2); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("want ErrInsufficient, got %v", err)
	}
}

func TestTakeNegativeRejected(t *testing.T) {
	s := New()
	s.Add("B", 5)
	if err := s.Take("B", -3); err == nil {
		t.Errorf("Take(B, -3) succeeded, level now %d; negative quantities must be rejected", s.Level("B"))
	}
}
