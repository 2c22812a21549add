//go:build ignore

// A receiver snippet, run by interop's tests: go run standard.go harness.go.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/outhook/webhook/verify"
)

// snippet:start
// receiver verifies Standard Webhooks deliveries (outhook's default) before
// they reach the handler; anything else gets a bare 400 or 401.
func receiver(secret string) http.Handler {
	v := verify.Standard{Secrets: []string{secret}} // add the new secret while rotating
	return verify.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := verify.FromContext(r.Context())
		// p.Body is the raw body; de-duplicate on p.Envelope.ID.
		fmt.Fprintln(os.Stderr, "verified", p.Envelope.Type, p.Envelope.ID)
	}))
}

// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET; exits 0 when the delivery verifies.
func main() { os.Exit(run(receiver(os.Getenv("WEBHOOK_SECRET")))) }
