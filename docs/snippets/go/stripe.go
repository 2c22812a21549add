//go:build ignore

// A receiver snippet, run by interop's tests: go run stripe.go harness.go.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/outhook/webhook/verify"
)

// snippet:start
// receiver verifies Stripe-form signatures ("t=...,v1=...")
// before they reach the handler; header defaults to X-Webhook-Signature.
func receiver(secret, header string) http.Handler {
	v := verify.Stripe{Header: header, Secrets: []string{secret}}
	return verify.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := verify.FromContext(r.Context())
		// p.Body is the raw body; de-duplicate on p.Envelope.ID.
		fmt.Fprintln(os.Stderr, "verified", p.Envelope.Type, p.Envelope.ID)
	}))
}

// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET, the header in WEBHOOK_HEADER; exits 0 when the
// delivery verifies.
func main() { os.Exit(run(receiver(os.Getenv("WEBHOOK_SECRET"), os.Getenv("WEBHOOK_HEADER")))) }
