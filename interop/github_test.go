package interop

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/google/go-github/v75/github"

	webhook "github.com/outhook/webhook"
)

// TestGitHubValidatePayload: go-github's ValidatePayload accepts real
// deliveries signed in GitHub's form, JSON and form-encoded, and rejects
// them tampered or checked with another secret.
func TestGitHubValidatePayload(t *testing.T) {
	signer := webhook.HMACSigner{Header: github.SHA256SignatureHeader, Prefix: "sha256="}
	for _, ct := range []string{webhook.ContentTypeJSON, webhook.ContentTypeForm} {
		t.Run(ct, func(t *testing.T) {
			got, secret := deliver(t, signer, webhook.EndpointParams{ContentType: ct})
			check := func(body []byte, secret string) ([]byte, error) {
				r := httptest.NewRequest(got.Method, "/hook", bytes.NewReader(body))
				r.Header = got.Header.Clone()
				return github.ValidatePayload(r, []byte(secret))
			}
			payload, err := check(got.Body, secret)
			if err != nil {
				t.Fatalf("ValidatePayload rejects a delivery: %v", err)
			}
			if !bytes.Contains(payload, []byte(`"type":"post.created"`)) {
				t.Fatalf("payload %q", payload)
			}
			if _, err := check(append(got.Body, '%', '2', '0'), secret); err == nil {
				t.Fatal("ValidatePayload accepts a tampered delivery")
			}
			if _, err := check(got.Body, secret+"x"); err == nil {
				t.Fatal("ValidatePayload accepts another secret")
			}
		})
	}
}
