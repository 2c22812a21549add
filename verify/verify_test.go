package verify_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/internal/vector"
	"github.com/outhook/webhook/verify"
)

var (
	t0      = time.Unix(vector.Timestamp, 0)
	secretA = "whsec_" + strings.Repeat("QUFB", 8) // 24 bytes of 'A'
	secretB = "whsec_" + strings.Repeat("QkJC", 8) // 24 bytes of 'B'
)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

// sign returns the headers signer sets for body, sent at t0 with secrets
// (newest first).
func sign(t *testing.T, s webhook.Signer, body string, secrets ...string) http.Header {
	t.Helper()
	h := http.Header{}
	if err := s.Sign(h, webhook.Message{ID: "evt_1", Timestamp: t0, Body: []byte(body), Secrets: secrets}); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestStandardVector(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", vector.ID)
	h.Set("webhook-timestamp", strconv.Itoa(vector.Timestamp))
	h.Set("webhook-signature", vector.Signature)
	v := verify.Standard{Secrets: []string{vector.Secret}, Now: clock(t0)}
	if err := v.Verify(h, []byte(vector.Body)); err != nil {
		t.Fatalf("published vector rejected: %v", err)
	}
	// The prefix is optional, as in the reference libraries.
	v.Secrets = []string{strings.TrimPrefix(vector.Secret, "whsec_")}
	if err := v.Verify(h, []byte(vector.Body)); err != nil {
		t.Fatalf("vector without prefix rejected: %v", err)
	}
	// And StandardSigner produces exactly the vector's signature.
	sh := http.Header{}
	err := webhook.StandardSigner{}.Sign(sh, webhook.Message{ID: vector.ID, Timestamp: t0, Body: []byte(vector.Body), Secrets: []string{vector.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	if got := sh.Get("webhook-signature"); got != vector.Signature {
		t.Fatalf("StandardSigner: got %q, want %q", got, vector.Signature)
	}
}

func TestStandard(t *testing.T) {
	body := `{"id":"evt_1","type":"post.created","data":{"title":"<b>&</b>"}}`
	signed := func() http.Header { return sign(t, webhook.StandardSigner{}, body, secretA) }
	rotated := func() http.Header { return sign(t, webhook.StandardSigner{}, body, secretB, secretA) }
	tests := []struct {
		name    string
		header  func() http.Header
		body    string
		secrets []string
		now     time.Time
		tol     time.Duration
		want    error
	}{
		{name: "valid", header: signed, secrets: []string{secretA}},
		{name: "second candidate", header: signed, secrets: []string{secretB, secretA}},
		{name: "rotation, old secret", header: rotated, secrets: []string{secretA}},
		{name: "rotation, new secret", header: rotated, secrets: []string{secretB}},
		{name: "wrong secret", header: signed, secrets: []string{secretB}, want: verify.ErrNoMatch},
		{name: "tampered body", header: signed, body: body + " ", secrets: []string{secretA}, want: verify.ErrNoMatch},
		{name: "just inside tolerance (old)", header: signed, secrets: []string{secretA}, now: t0.Add(5 * time.Minute)},
		{name: "too old", header: signed, secrets: []string{secretA}, now: t0.Add(5*time.Minute + time.Second), want: verify.ErrTooOld},
		{name: "just inside tolerance (new)", header: signed, secrets: []string{secretA}, now: t0.Add(-5 * time.Minute)},
		{name: "too new", header: signed, secrets: []string{secretA}, now: t0.Add(-5*time.Minute - time.Second), want: verify.ErrTooNew},
		{name: "custom tolerance", header: signed, secrets: []string{secretA}, now: t0.Add(time.Hour), tol: 2 * time.Hour},
		{name: "custom tolerance exceeded", header: signed, secrets: []string{secretA}, now: t0.Add(time.Minute), tol: 30 * time.Second, want: verify.ErrTooOld},
		{name: "missing id", header: without(signed, "webhook-id"), secrets: []string{secretA}, want: verify.ErrMissingHeader},
		{name: "missing timestamp", header: without(signed, "webhook-timestamp"), secrets: []string{secretA}, want: verify.ErrMissingHeader},
		{name: "missing signature", header: without(signed, "webhook-signature"), secrets: []string{secretA}, want: verify.ErrMissingHeader},
		{name: "timestamp not a number", header: with(signed, "webhook-timestamp", "soon"), secrets: []string{secretA}, want: verify.ErrBadFormat},
		{name: "timestamp with sign", header: with(signed, "webhook-timestamp", "+1614265330"), secrets: []string{secretA}, want: verify.ErrBadFormat},
		{name: "signature garbage", header: with(signed, "webhook-signature", "garbage"), secrets: []string{secretA}, want: verify.ErrBadFormat},
		{name: "only other versions", header: with(signed, "webhook-signature", "v2,abc"), secrets: []string{secretA}, want: verify.ErrNoMatch},
		{name: "timestamp changed", header: with(signed, "webhook-timestamp", strconv.Itoa(vector.Timestamp+1)), secrets: []string{secretA}, want: verify.ErrNoMatch},
		{name: "id changed", header: with(signed, "webhook-id", "evt_2"), secrets: []string{secretA}, want: verify.ErrNoMatch},
		{name: "no secrets", header: signed, want: verify.ErrNoSecret},
		{name: "bad secret", header: signed, secrets: []string{"whsec_short"}, want: verify.ErrBadSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			b := tt.body
			if b == "" {
				b = body
			}
			v := verify.Standard{Secrets: tt.secrets, Tolerance: tt.tol, Now: clock(now)}
			err := v.Verify(tt.header(), []byte(b))
			checkErr(t, err, tt.want)
		})
	}
}

func TestStandardRotationOrder(t *testing.T) {
	h := sign(t, webhook.StandardSigner{}, "{}", secretB, secretA)
	parts := strings.Split(h.Get("webhook-signature"), " ")
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "v1,") || !strings.HasPrefix(parts[1], "v1,") {
		t.Fatalf("want two space-separated v1 signatures, got %q", h.Get("webhook-signature"))
	}
}

func TestHMAC(t *testing.T) {
	body := `{"event":"vote.created"}`
	const s1, s2 = "portal-secret-1", "portal-secret-2"
	lift := webhook.HMACSigner{Header: "Signature"}
	gh := webhook.HMACSigner{Header: "X-Hub-Signature-256", Prefix: "sha256="}
	tests := []struct {
		name   string
		header http.Header
		body   string
		v      verify.HMAC
		want   error
	}{
		{name: "ProductLift", header: sign(t, lift, body, s1), v: verify.HMAC{Header: "Signature", Secrets: []string{s1}}},
		{name: "default header", header: sign(t, webhook.HMACSigner{}, body, s1), v: verify.HMAC{Secrets: []string{s1}}},
		{name: "GitHub form", header: sign(t, gh, body, s1), v: verify.HMAC{Header: "X-Hub-Signature-256", Prefix: "sha256=", Secrets: []string{s1}}},
		{name: "upper-case hex", header: http.Header{"Signature": {strings.ToUpper(sign(t, lift, body, s1).Get("Signature"))}}, v: verify.HMAC{Header: "Signature", Secrets: []string{s1}}},
		{name: "candidates", header: sign(t, lift, body, s1), v: verify.HMAC{Header: "Signature", Secrets: []string{s2, s1}}},
		{name: "rotation signs with the oldest active secret", header: sign(t, lift, body, s2, s1), v: verify.HMAC{Header: "Signature", Secrets: []string{s1}}},
		{name: "rotation: new secret alone does not match yet", header: sign(t, lift, body, s2, s1), v: verify.HMAC{Header: "Signature", Secrets: []string{s2}}, want: verify.ErrNoMatch},
		{name: "tampered", header: sign(t, lift, body, s1), body: body + "\n", v: verify.HMAC{Header: "Signature", Secrets: []string{s1}}, want: verify.ErrNoMatch},
		{name: "wrong secret", header: sign(t, lift, body, s1), v: verify.HMAC{Header: "Signature", Secrets: []string{s2}}, want: verify.ErrNoMatch},
		{name: "missing", header: http.Header{}, v: verify.HMAC{Header: "Signature", Secrets: []string{s1}}, want: verify.ErrMissingHeader},
		{name: "prefix missing", header: sign(t, lift, body, s1), v: verify.HMAC{Header: "Signature", Prefix: "sha256=", Secrets: []string{s1}}, want: verify.ErrBadFormat},
		{name: "short", header: http.Header{"Signature": {"abcd"}}, v: verify.HMAC{Header: "Signature", Secrets: []string{s1}}, want: verify.ErrBadFormat},
		{name: "not hex", header: http.Header{"Signature": {strings.Repeat("zz", 32)}}, v: verify.HMAC{Header: "Signature", Secrets: []string{s1}}, want: verify.ErrBadFormat},
		{name: "no secret", header: sign(t, lift, body, s1), v: verify.HMAC{Header: "Signature"}, want: verify.ErrNoSecret},
		{name: "empty secret", header: sign(t, lift, body, s1), v: verify.HMAC{Header: "Signature", Secrets: []string{""}}, want: verify.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.body
			if b == "" {
				b = body
			}
			err := tt.v.Verify(tt.header, []byte(b))
			checkErr(t, err, tt.want)
		})
	}
}

func TestStripe(t *testing.T) {
	body := `{"id":"evt_1"}`
	const s1, s2 = "whsec_one", "whsec_two"
	st := webhook.StripeSigner{Header: "Stripe-Signature"}
	signed := sign(t, st, body, s1)
	rotated := sign(t, st, body, s2, s1)
	hv := func(v string) http.Header { return http.Header{"Stripe-Signature": {v}} }
	good := signed.Get("Stripe-Signature")
	v1 := strings.SplitN(good, ",", 2)[1]
	tests := []struct {
		name    string
		header  http.Header
		body    string
		secrets []string
		now     time.Time
		want    error
	}{
		{name: "valid", header: signed, secrets: []string{s1}},
		{name: "candidates", header: signed, secrets: []string{s2, s1}},
		{name: "rotation, old", header: rotated, secrets: []string{s1}},
		{name: "rotation, new", header: rotated, secrets: []string{s2}},
		{name: "unknown keys ignored", header: hv(good + ",v0=abc,scheme=x"), secrets: []string{s1}},
		{name: "v1 first", header: hv(v1 + ",t=" + strconv.Itoa(vector.Timestamp)), secrets: []string{s1}},
		{name: "bad v1 entry skipped", header: hv(good + ",v1=nothex"), secrets: []string{s1}},
		{name: "wrong secret", header: signed, secrets: []string{s2}, want: verify.ErrNoMatch},
		{name: "tampered", header: signed, body: body + " ", secrets: []string{s1}, want: verify.ErrNoMatch},
		{name: "too old", header: signed, secrets: []string{s1}, now: t0.Add(6 * time.Minute), want: verify.ErrTooOld},
		{name: "too new", header: signed, secrets: []string{s1}, now: t0.Add(-6 * time.Minute), want: verify.ErrTooNew},
		{name: "t changed", header: hv("t=" + strconv.Itoa(vector.Timestamp+1) + "," + v1), secrets: []string{s1}, want: verify.ErrNoMatch},
		{name: "missing", header: http.Header{}, secrets: []string{s1}, want: verify.ErrMissingHeader},
		{name: "no t", header: hv(v1), secrets: []string{s1}, want: verify.ErrBadFormat},
		{name: "two t", header: hv(good + ",t=1"), secrets: []string{s1}, want: verify.ErrBadFormat},
		{name: "t not a number", header: hv("t=now," + v1), secrets: []string{s1}, want: verify.ErrBadFormat},
		{name: "not key=value", header: hv(good + ",junk"), secrets: []string{s1}, want: verify.ErrBadFormat},
		{name: "no v1", header: hv("t=" + strconv.Itoa(vector.Timestamp) + ",v0=abc"), secrets: []string{s1}, want: verify.ErrNoMatch},
		{name: "no secret", header: signed, want: verify.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			b := tt.body
			if b == "" {
				b = body
			}
			v := verify.Stripe{Header: "Stripe-Signature", Secrets: tt.secrets, Now: clock(now)}
			err := v.Verify(tt.header, []byte(b))
			checkErr(t, err, tt.want)
		})
	}
}

func TestStripeDefaultHeader(t *testing.T) {
	h := sign(t, webhook.StripeSigner{}, "{}", "s")
	if h.Get(verify.DefaultStripeHeader) == "" {
		t.Fatalf("StripeSigner{} did not set %s: %v", verify.DefaultStripeHeader, h)
	}
	if err := (verify.Stripe{Secrets: []string{"s"}, Now: clock(t0)}).Verify(h, []byte("{}")); err != nil {
		t.Fatal(err)
	}
}

// TestDefaultClock checks the zero Now is the real clock: a delivery
// signed now verifies, one signed an hour ago does not.
func TestDefaultClock(t *testing.T) {
	for _, tt := range []struct {
		name string
		at   time.Time
		want error
	}{
		{"now", time.Now(), nil},
		{"an hour ago", time.Now().Add(-time.Hour), verify.ErrTooOld},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			_ = webhook.StandardSigner{}.Sign(h, webhook.Message{ID: "e", Timestamp: tt.at, Body: []byte("{}"), Secrets: []string{secretA}})
			err := verify.Standard{Secrets: []string{secretA}}.Verify(h, []byte("{}"))
			checkErr(t, err, tt.want)
		})
	}
}

// TestRootVerify checks webhook.Verify, the root shortcut, agrees.
func TestRootVerify(t *testing.T) {
	h := sign(t, webhook.StandardSigner{}, "{}", secretA)
	if err := webhook.Verify(secretA, h, []byte("{}"), t0); err != nil {
		t.Fatal(err)
	}
	if err := webhook.Verify(secretA, h, []byte("{} "), t0); !errors.Is(err, webhook.ErrBadSignature) {
		t.Fatalf("got %v, want ErrBadSignature", err)
	}
	if err := webhook.Verify(secretA, h, []byte("{}"), t0.Add(time.Hour)); !errors.Is(err, webhook.ErrTimestampTooOld) {
		t.Fatalf("got %v, want ErrTimestampTooOld", err)
	}
}

func with(h func() http.Header, k, v string) func() http.Header {
	return func() http.Header { c := h(); c.Set(k, v); return c }
}

func without(h func() http.Header, k string) func() http.Header {
	return func() http.Header { c := h(); c.Del(k); return c }
}

// checkErr fails unless err is nil when want is, and wraps want otherwise.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) || (want == nil) != (err == nil) {
		t.Fatalf("got %v, want %v", err, want)
	}
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"id":"evt_1","type":"post.created","data":{"title":"` + strings.Repeat("x", 1024) + `"}}`)
	msg := webhook.Message{ID: "evt_1", Timestamp: t0, Body: body, Secrets: []string{secretB, secretA}}
	for _, bc := range []struct {
		name   string
		signer webhook.Signer
		v      verify.Verifier
	}{
		{"standard", webhook.StandardSigner{}, verify.Standard{Secrets: []string{secretA}, Now: clock(t0)}},
		{"hmac", webhook.HMACSigner{}, verify.HMAC{Secrets: []string{secretA}}},
		{"stripe", webhook.StripeSigner{}, verify.Stripe{Secrets: []string{secretA}, Now: clock(t0)}},
	} {
		h := http.Header{}
		if err := bc.signer.Sign(h, msg); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := bc.v.Verify(h, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
