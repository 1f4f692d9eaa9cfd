package geo

import (
	"fmt"
	"testing"
)

func TestHaversineSymmetric(t *testing.T) {
	for lat := -80.0; lat <= 80; lat += 10 {
		for lon := -170.0; lon <= 170; lon += 30 {
			lat, lon := lat, lon
			t.Run(fmt.Sprintf("lat%.0f_lon%.0f", lat, lon), func(t *testing.T) {
				a, b := Haversine(lat, lon, 52.52, 13.40), Haversine(52.52, 13.40, lat, lon)
				if d := a - b; d > 1e-9 || d < -1e-9 {
					t.Fatalf("asymmetric: %f vs %f", a, b)
				}
			})
		}
	}
}
