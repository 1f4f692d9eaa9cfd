package logindex

import "testing"

func TestBuildSmall(t *testing.T) {
	if got := len(Build(2)); got != 2 {
		t.Fatalf("len = %d", got)
	}
}

func TestBuildFullDay(t *testing.T) {
	idx := Build(1440)
	if len(idx) != 1440 {
		t.Fatalf("len = %d", len(idx))
	}
}
