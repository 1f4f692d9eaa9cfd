package store

import "testing"

func TestSetGet(t *testing.T) {
	s := New()
	s.Set("a", []byte("1"))
	if v, ok := s.Get("a"); !ok || string(v) != "1" {
		t.Fatalf("Get(a) = %q, %v", v, ok)
	}
}
