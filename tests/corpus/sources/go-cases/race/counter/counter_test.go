package counter

import (
	"fmt"
	"sync"
	"testing"
)

func TestRecordSingle(t *testing.T) {
	for n := 1; n <= 30; n++ {
		n := n
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			h := New()
			for i := 0; i < n; i++ {
				h.Record("/")
			}
			if h.Total() != n {
				t.Fatalf("Total = %d, want %d", h.Total(), n)
			}
		})
	}
}

func TestRecordConcurrent(t *testing.T) {
	h := New()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				h.Record("/index")
			}
		}()
	}
	wg.Wait()
	if h.Total() != 800 {
		t.Errorf("Total = %d, want 800", h.Total())
	}
}
