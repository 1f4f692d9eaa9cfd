// Package telemetry averages sensor readings.
package telemetry

// Mean is the arithmetic mean of readings (0 for none).
func Mean(readings []float64) float64 {
	if len(readings) == 0 {
		return 0
	}
	sum := 0.0
	for _, r := range readings {
		sum += r
	}
	return sum / float64(len(readings))
}
