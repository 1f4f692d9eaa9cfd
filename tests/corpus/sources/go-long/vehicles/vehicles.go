// Package vehicles validates plates.
package vehicles

import "strings"

// ValidPlate accepts upper-case letters, digits and dashes, 4 to 10 long.
func ValidPlate(p string) bool {
	if len(p) < 4 || len(p) > 10 {
		return false
	}
	return strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ""
}
