package queue

import (
	"fmt"
	"testing"
	"time"
)

func TestPushPopSequential(t *testing.T) {
	for i := 0; i < 40; i++ {
		i := i
		t.Run(fmt.Sprintf("item-%02d", i), func(t *testing.T) {
			q := New()
			q.Push(fmt.Sprint(i))
			if got := q.Pop(); got != fmt.Sprint(i) {
				t.Fatalf("Pop = %q", got)
			}
		})
	}
}

func TestLen(t *testing.T) {
	q := New()
	q.Push("a")
	q.Push("b")
	if q.Len() != 2 {
		t.Fatal(q.Len())
	}
}

func TestPopWaitsForProducer(t *testing.T) {
	q := New()
	done := make(chan string)
	go func() { done <- q.Pop() }()
	time.Sleep(20 * time.Millisecond)
	q.Push("job-1")
	if got := <-done; got != "job-1" {
		t.Fatalf("Pop = %q, want job-1", got)
	}
}

func TestFIFOOrder(t *testing.T) {
	q := New()
	for _, s := range []string{"a", "b", "c"} {
		q.Push(s)
	}
	for _, want := range []string{"a", "b", "c"} {
		if got := q.Pop(); got != want {
			t.Fatalf("Pop = %q, want %q", got, want)
		}
	}
}
