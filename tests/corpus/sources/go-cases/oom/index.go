package logindex

import "fmt"

// Build indexes every line of every generated segment in memory. Segments are never
// released, so memory grows with the input size.
func Build(segments int) map[int][]string {
	idx := make(map[int][]string)
	for s := 0; s < segments; s++ {
		lines := make([]string, 0, 1<<16)
		for i := 0; i < 1<<16; i++ {
			lines = append(lines, fmt.Sprintf("segment=%06d line=%06d level=info msg=\"request served\" path=/api/v1/items/%d", s, i, i))
		}
		idx[s] = lines
	}
	return idx
}
