// Package routes orders stops.
package routes

import "sort"

// Order sorts stops by their sequence number and returns their names.
func Order(stops map[string]int) []string {
	names := make([]string, 0, len(stops))
	for name := range stops {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return stops[names[i]] < stops[names[j]] })
	return names
}
