//go:build ignore

// A receiver snippet, run by interop's tests: go run hmac.go harness.go.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/outhook/webhook/verify"
)

// snippet:start
// receiver verifies hex HMAC-SHA256 signatures before they
// reach the handler: header "Signature" for ProductLift, "X-Hub-Signature-256"
// with prefix "sha256=" for GitHub's form. The secret is used as written.
func receiver(secret, header, prefix string) http.Handler {
	v := verify.HMAC{Header: header, Prefix: prefix, Secrets: []string{secret}}
	return verify.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := verify.FromContext(r.Context())
		// p.Body is the raw body; de-duplicate on p.Envelope.ID.
		fmt.Fprintln(os.Stderr, "verified", p.Envelope.Type, p.Envelope.ID)
	}))
}

// snippet:end

// Test harness: {"headers": {...}, "body": "<base64>"} on stdin, the secret
// in WEBHOOK_SECRET, the header in WEBHOOK_HEADER and the prefix in
// WEBHOOK_PREFIX; exits 0 when the delivery verifies.
func main() {
	os.Exit(run(receiver(os.Getenv("WEBHOOK_SECRET"), os.Getenv("WEBHOOK_HEADER"), os.Getenv("WEBHOOK_PREFIX"))))
}
