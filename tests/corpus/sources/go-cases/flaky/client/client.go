package client

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

type Client struct {
	Base string
	HTTP *http.Client
}

func New(base string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 3 * time.Second}}
}

// Deliver posts a webhook payload and returns the status code.
func (c *Client) Deliver(event, body string) (int, error) {
	resp, err := c.HTTP.Post(c.Base+"/hooks/"+event, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("deliver %s: %w", event, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// Signature is a toy HMAC stand-in used in headers.
func Signature(secret, body string) string {
	var h uint32 = 2166136261
	for _, b := range []byte(secret + ":" + body) {
		h ^= uint32(b)
		h *= 16777619
	}
	return fmt.Sprintf("v1=%08x", h)
}
