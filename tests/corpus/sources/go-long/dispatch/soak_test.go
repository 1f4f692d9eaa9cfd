//go:build soak

package dispatch

import (
	"sync"
	"testing"
)

// TestSoakDrain runs 500 workers that each report one result on an unbuffered channel, then
// waits for them before draining the channel.
func TestSoakDrain(t *testing.T) {
	const workers = 500
	results := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			results <- w
		}(w)
	}
	wg.Wait()
	if got := Drain(results, workers); got != workers {
		t.Fatalf("drained %d results, want %d", got, workers)
	}
}
