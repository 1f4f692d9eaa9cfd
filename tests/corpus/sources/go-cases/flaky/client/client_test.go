package client

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

func TestSignatureStable(t *testing.T) {
	for i := 0; i < 60; i++ {
		body := fmt.Sprintf(`{"id":%d}`, i)
		t.Run(fmt.Sprintf("payload-%02d", i), func(t *testing.T) {
			if Signature("s3cr3t", body) != Signature("s3cr3t", body) {
				t.Fatal("unstable")
			}
		})
	}
}

func TestDeliverLocal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer srv.Close()
	code, err := New(srv.URL).Deliver("push", `{}`)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("Deliver = %d, %v", code, err)
	}
}

// TestDeliverToReceiver talks to the receiver container that the CI job starts next to the tests.
func TestDeliverToReceiver(t *testing.T) {
	base := os.Getenv("RECEIVER_URL")
	if base == "" {
		base = "http://127.0.0.1:8089"
	}
	code, err := New(base).Deliver("release", `{"tag":"v1.4.0"}`)
	if err != nil {
		t.Fatalf("receiver not reachable: %v", err)
	}
	if code != http.StatusAccepted {
		t.Fatalf("status = %d", code)
	}
}
