package interop

import (
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	outhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/verify"
)

// TestStripeValidatePayload: Stripe's Go library accepts real deliveries
// signed by StripeSigner, and, during a rotation, with either secret.
func TestStripeValidatePayload(t *testing.T) {
	const header = "Stripe-Signature"
	s := setup(t, outhook.Config{Signer: outhook.StripeSigner{Header: header}})
	ep, oldSecret := s.endpoint(t, outhook.EndpointParams{}, "/hook")
	got := s.publish(t, event())
	if err := webhook.ValidatePayload(got.Body, got.Header.Get(header), oldSecret); err != nil {
		t.Fatalf("stripe-go rejects a delivery: %v", err)
	}
	if err := webhook.ValidatePayload(append(got.Body, ' '), got.Header.Get(header), oldSecret); err == nil {
		t.Fatal("stripe-go accepts a tampered delivery")
	}

	newSecret, err := s.d.RotateSecret(t.Context(), ep.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	during := s.publish(t, event())
	for _, secret := range []string{oldSecret, newSecret} {
		if err := webhook.ValidatePayload(during.Body, during.Header.Get(header), secret); err != nil {
			t.Fatalf("stripe-go rejects a delivery during rotation: %v", err)
		}
	}
}

// TestStripeFixedInput: a fixed signing time, checked without tolerance by
// stripe-go; and verify.Stripe accepts what stripe-go's test helper signs.
func TestStripeFixedInput(t *testing.T) {
	body := []byte(`{"id":"evt_1","object":"event"}`)
	at := time.Unix(1614265330, 0)
	h := http.Header{}
	if err := (outhook.StripeSigner{}).Sign(h, outhook.Message{ID: "evt_1", Timestamp: at, Body: body, Secrets: []string{"whsec_test"}}); err != nil {
		t.Fatal(err)
	}
	if err := webhook.ValidatePayloadIgnoringTolerance(body, h.Get(verify.DefaultStripeHeader), "whsec_test"); err != nil {
		t.Fatalf("stripe-go: %v", err)
	}
	if err := webhook.ValidatePayload(body, h.Get(verify.DefaultStripeHeader), "whsec_test"); err == nil {
		t.Fatal("stripe-go accepts a five-year-old signature")
	}

	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_other", Timestamp: at})
	v := verify.Stripe{Header: "Stripe-Signature", Secrets: []string{"whsec_other"}, Now: func() time.Time { return at }}
	if err := v.Verify(http.Header{"Stripe-Signature": {signed.Header}}, body); err != nil {
		t.Fatalf("verify.Stripe rejects stripe-go's signature %q: %v", signed.Header, err)
	}
}
