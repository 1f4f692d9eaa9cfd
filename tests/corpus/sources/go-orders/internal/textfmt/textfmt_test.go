package textfmt

import "testing"

func TestTitle(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hello world", "Hello World"},
		{"go is fun", "Go Is Fun"},
		{"a", "A"},
		{"multiple   spaces here", "Multiple Spaces Here"},
		{"already Title", "Already Title"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Title(tc.in); got != tc.want {
				t.Errorf("Title(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("abcdefgh", 4); got != "abc…" {
		t.Errorf("got %q", got)
	}
	if got := Truncate("ab", 4); got != "ab" {
		t.Errorf("got %q", got)
	}
}
