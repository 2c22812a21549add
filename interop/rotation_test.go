package interop

import (
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/verify"
)

// TestHMACRotation: through a real Dispatcher, HMACSigner keeps signing
// with the old secret during the grace period (receivers that have not
// updated yet keep working) and with the new one once the old expires.
func TestHMACRotation(t *testing.T) {
	s := setup(t, webhook.Config{Signer: webhook.HMACSigner{Header: "Signature"}})
	ep, first := s.endpoint(t, webhook.EndpointParams{}, "/hook")
	check := func(r recorded, secret string) error {
		return verify.HMAC{Header: "Signature", Secrets: []string{secret}}.Verify(r.Header, r.Body)
	}

	second, err := s.d.RotateSecret(t.Context(), ep.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	during := s.publish(t, event())
	if err := check(during, first); err != nil {
		t.Fatalf("during the grace period the old secret must sign: %v", err)
	}
	if err := check(during, second); err == nil {
		t.Fatal("during the grace period the new secret signed")
	}

	third, err := s.d.RotateSecret(t.Context(), ep.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	after := s.publish(t, event())
	if err := check(after, third); err != nil {
		t.Fatalf("after a rotation without grace the new secret must sign: %v", err)
	}
	for _, old := range []string{first, second} {
		if err := check(after, old); err == nil {
			t.Fatal("a retired secret still signs")
		}
	}
}
