// Package dispatch assigns jobs to vehicles.
package dispatch

import "sync"

// Board is a job board shared by dispatcher goroutines.
type Board struct {
	mu       sync.Mutex
	assigned map[int]string
}

// NewBoard returns an empty board.
func NewBoard() *Board { return &Board{assigned: map[int]string{}} }

// Assign gives job to vehicle unless the job is taken.
func (b *Board) Assign(job int, vehicle string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, taken := b.assigned[job]; taken {
		return false
	}
	b.assigned[job] = vehicle
	return true
}

// Drain waits for every result on results and counts them. It returns once done is closed and
// the count reaches want.
func Drain(results <-chan int, want int) int {
	got := 0
	for range results {
		got++
		if got == want {
			return got
		}
	}
	return got
}
