package invoice

import "testing"

func TestTotal(t *testing.T) {
	lines := []Line{{"A", 2, 150}, {"B", 1, 999}}
	if got := Total(lines); got != 1299 {
		t.Fatalf("Total = %d, want 1299", got)
	}
}

func TestNumber(t *testing.T) {
	cases := []struct {
		year, seq int
		want      string
	}{
		{2024, 1, "INV-2024-000001"},
		{2024, 42, "INV-2024-000042"},
		{2025, 999999, "INV-2025-999999"},
		{2023, 1234, "INV-2023-001234"},
		{2026, 7, "INV-2026-000007"},
	}
	for _, tc := range cases {
		if got := Number(tc.year, tc.seq); got != tc.want {
			t.Errorf("Number(%d, %d) = %q, want %q", tc.year, tc.seq, got, tc.want)
		}
	}
}

func TestRender(t *testing.T) {
	got := Render([]Line{{"WIDGET", 3, 250}})
	want := "WIDGET       3 x     2.50\nTOTAL 7.50\n"
	if got != want {
		t.Errorf("Render mismatch\n got: %q\nwant: %q", got, want)
	}
}
