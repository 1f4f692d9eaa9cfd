package counter

// Hits counts page hits per path.
type Hits struct {
	total int
	paths map[string]int
}

func New() *Hits { return &Hits{paths: map[string]int{}} }

// Record is called from every request goroutine.
func (h *Hits) Record(path string) {
	h.total++
}

func (h *Hits) Total() int { return h.total }
