package interop

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	svix "github.com/svix/svix-webhooks/go"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/internal/vector"
	"github.com/outhook/webhook/verify"
)

// standardVerifiers are the independent Standard Webhooks implementations.
type standardVerifier interface {
	Verify(payload []byte, h http.Header) error
	VerifyIgnoringTimestamp(payload []byte, h http.Header) error
	Sign(id string, ts time.Time, payload []byte) (string, error)
}

func standardVerifiers(t *testing.T, secret string) map[string]standardVerifier {
	t.Helper()
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sx, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]standardVerifier{"standard-webhooks": ref, "svix": sx}
}

func TestStandardVector(t *testing.T) {
	h := http.Header{}
	err := webhook.StandardSigner{}.Sign(h, webhook.Message{ID: vector.ID, Timestamp: time.Unix(vector.Timestamp, 0), Body: []byte(vector.Body), Secrets: []string{vector.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("webhook-signature"); got != vector.Signature {
		t.Fatalf("outhook signs the vector as %q, want %q", got, vector.Signature)
	}
	for name, v := range standardVerifiers(t, vector.Secret) {
		t.Run(name, func(t *testing.T) {
			sig, err := v.Sign(vector.ID, time.Unix(vector.Timestamp, 0), []byte(vector.Body))
			if err != nil || sig != vector.Signature {
				t.Fatalf("%s signs the vector as %q (%v)", name, sig, err)
			}
			if err := v.VerifyIgnoringTimestamp([]byte(vector.Body), h); err != nil {
				t.Fatalf("%s rejects outhook's signature of the vector: %v", name, err)
			}
		})
	}
}

// TestStandardIndependentSigners: verify.Standard accepts what the
// independent libraries sign, now, and rejects it tampered.
func TestStandardIndependentSigners(t *testing.T) {
	secret, _ := webhook.GenerateSecret()
	body := []byte(`{"type":"post.created","data":{"x":"<&>"}}`)
	for name, lib := range standardVerifiers(t, secret) {
		t.Run(name, func(t *testing.T) {
			now := time.Now()
			sig, err := lib.Sign("evt_42", now, body)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			h.Set("webhook-id", "evt_42")
			h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
			h.Set("webhook-signature", sig)
			v := verify.Standard{Secrets: []string{secret}}
			if err := v.Verify(h, body); err != nil {
				t.Fatalf("rejected %s's signature: %v", name, err)
			}
			if err := v.Verify(h, append(body, ' ')); err == nil {
				t.Fatal("accepted a tampered body")
			}
		})
	}
}

// TestStandardDelivery: a real delivery from a Dispatcher, checked by the
// independent libraries, before and during a secret rotation.
func TestStandardDelivery(t *testing.T) {
	s := setup(t, webhook.Config{})
	ep, oldSecret := s.endpoint(t, webhook.EndpointParams{}, "/hook")
	first := s.publish(t, event())
	for name, v := range standardVerifiers(t, oldSecret) {
		if err := v.Verify(first.Body, first.Header); err != nil {
			t.Fatalf("%s rejects a delivery: %v", name, err)
		}
		if err := v.Verify(append(first.Body, ' '), first.Header); err == nil {
			t.Fatalf("%s accepts a tampered delivery", name)
		}
	}

	newSecret, err := s.d.RotateSecret(context.Background(), ep.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	during := s.publish(t, event())
	if n := len(strings.Split(during.Header.Get("webhook-signature"), " ")); n != 2 {
		t.Fatalf("%d signatures during the grace period, want 2", n)
	}
	for _, secret := range []string{oldSecret, newSecret} {
		for name, v := range standardVerifiers(t, secret) {
			if err := v.Verify(during.Body, during.Header); err != nil {
				t.Fatalf("%s with one of the two secrets rejects a delivery during rotation: %v", name, err)
			}
		}
	}
}
