package webhook_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
)

var _ webhook.Signer = webhook.StripeSigner{}
var _ webhook.HeaderLister = webhook.StripeSigner{}
var _ webhook.HeaderLister = webhook.HMACSigner{}
var _ webhook.HeaderLister = webhook.StandardSigner{}
var _ webhook.SecretValidator = webhook.StandardSigner{}

// The Standard Webhooks published test vector.
func ExampleStandardSigner() {
	h := http.Header{}
	err := webhook.StandardSigner{}.Sign(h, webhook.Message{
		ID:        "msg_p5jXN8AQM9LWM0D4loKWxJek",
		Timestamp: time.Unix(1614265330, 0),
		Body:      []byte(`{"test": 2432232314}`),
		Secrets:   []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	})
	fmt.Println(err)
	fmt.Println(h.Get("webhook-id"))
	fmt.Println(h.Get("webhook-timestamp"))
	fmt.Println(h.Get("webhook-signature"))
	// Output:
	// <nil>
	// msg_p5jXN8AQM9LWM0D4loKWxJek
	// 1614265330
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

// GitHub's form: "X-Hub-Signature-256: sha256=<hex>".
func ExampleHMACSigner() {
	h := http.Header{}
	s := webhook.HMACSigner{Header: "X-Hub-Signature-256", Prefix: "sha256="}
	_ = s.Sign(h, webhook.Message{
		ID:      "evt_1",
		Body:    []byte(`{"id":"1","event":"post.created"}`),
		Secrets: []string{"old-secret"},
	})
	fmt.Println(h.Get("X-Hub-Signature-256"))
	// Output:
	// sha256=bc86246efdde123d36e3487a044188226ed52aa01f664d90a373b403f733ffdb
}

// Stripe's form in a header of the sender's choice; during a rotation
// both secrets sign, newest first.
func ExampleStripeSigner() {
	h := http.Header{}
	s := webhook.StripeSigner{Header: "X-Acme-Signature"}
	_ = s.Sign(h, webhook.Message{
		ID:        "evt_1",
		Timestamp: time.Unix(1614265330, 0),
		Body:      []byte(`{"id":"evt_1"}`),
		Secrets:   []string{"whsec_test"},
	})
	fmt.Println(h.Get("X-Acme-Signature"))
	// Output:
	// t=1614265330,v1=347e9afe3d74ec4c5cbefd270edc9246513ae3da7b375223e302560fbd4146eb
}

func TestSignersRequireSecret(t *testing.T) {
	for _, s := range []webhook.Signer{webhook.StandardSigner{}, webhook.HMACSigner{}, webhook.StripeSigner{}} {
		if err := s.Sign(http.Header{}, webhook.Message{ID: "e", Body: []byte("{}")}); err == nil {
			t.Errorf("%T signed without a secret", s)
		}
	}
}

func TestStandardSignerRejectsBadSecret(t *testing.T) {
	for _, secret := range []string{"", "plain", "whsec_", "whsec_!!!!", "whsec_" + strings.Repeat("QUFB", 4)} {
		if err := (webhook.StandardSigner{}).ValidateSecret(secret); err == nil {
			t.Errorf("ValidateSecret(%q) accepted", secret)
		}
		err := webhook.StandardSigner{}.Sign(http.Header{}, webhook.Message{ID: "e", Secrets: []string{secret}})
		if err == nil {
			t.Errorf("Sign with %q succeeded", secret)
		}
	}
	s, err := webhook.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := (webhook.StandardSigner{}).ValidateSecret(s); err != nil {
		t.Fatalf("generated secret rejected: %v", err)
	}
}

func TestSignatureHeaders(t *testing.T) {
	tests := []struct {
		name string
		s    webhook.HeaderLister
		want string
	}{
		{"standard", webhook.StandardSigner{}, "webhook-timestamp webhook-signature"},
		{"hmac default", webhook.HMACSigner{}, "X-Signature"},
		{"hmac", webhook.HMACSigner{Header: "Signature"}, "Signature"},
		{"stripe default", webhook.StripeSigner{}, "X-Webhook-Signature"},
		{"stripe", webhook.StripeSigner{Header: "Stripe-Signature"}, "Stripe-Signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(tt.s.SignatureHeaders(), " "); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			// Every listed header is really set.
			h := http.Header{}
			secret, _ := webhook.GenerateSecret()
			if err := tt.s.(webhook.Signer).Sign(h, webhook.Message{ID: "e", Timestamp: time.Now(), Body: []byte("{}"), Secrets: []string{secret}}); err != nil {
				t.Fatal(err)
			}
			for _, name := range tt.s.SignatureHeaders() {
				if h.Get(name) == "" {
					t.Errorf("%s not set", name)
				}
			}
			if h.Get("webhook-id") != "e" {
				t.Error("webhook-id not set")
			}
		})
	}
}

func TestStripeSignerRotation(t *testing.T) {
	h := http.Header{}
	_ = webhook.StripeSigner{}.Sign(h, webhook.Message{ID: "e", Timestamp: time.Unix(5, 0), Body: []byte("{}"), Secrets: []string{"new", "old"}})
	parts := strings.Split(h.Get("X-Webhook-Signature"), ",")
	if len(parts) != 3 || parts[0] != "t=5" || !strings.HasPrefix(parts[1], "v1=") || !strings.HasPrefix(parts[2], "v1=") || parts[1] == parts[2] {
		t.Fatalf("got %q", h.Get("X-Webhook-Signature"))
	}
}
