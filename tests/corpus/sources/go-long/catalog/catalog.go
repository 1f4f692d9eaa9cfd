// Package catalog formats SKUs.
package catalog

import "fmt"

// SKU renders a product number as a catalog code.
func SKU(family string, n int) string { return fmt.Sprintf("%s-%05d", family, n) }
