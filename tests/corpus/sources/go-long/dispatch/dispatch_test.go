package dispatch

import (
	"fmt"
	"testing"
)

func TestAssignOnce(t *testing.T) {
	for job := 0; job < 240; job++ {
		job := job
		t.Run(fmt.Sprintf("job_%03d", job), func(t *testing.T) {
			b := NewBoard()
			if !b.Assign(job, "V1") || b.Assign(job, "V2") {
				t.Fatalf("job %d assigned twice or not at all", job)
			}
		})
	}
}
