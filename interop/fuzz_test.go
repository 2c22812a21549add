package interop

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v75/github"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	"github.com/outhook/webhook/internal/vector"
	"github.com/outhook/webhook/verify"
)

// Differential fuzzing: for arbitrary headers and bodies, outhook's
// verifiers must never accept what the independent implementation
// rejects. (The converse, outhook rejecting what they accept, is allowed:
// outhook is stricter about timestamps and header shape; the round-trip
// tests show it accepts everything its own signers and theirs produce.)

func FuzzStandardVsReference(f *testing.F) {
	f.Add(vector.ID, strconv.Itoa(vector.Timestamp), vector.Signature, []byte(vector.Body))
	f.Add(vector.ID, strconv.Itoa(vector.Timestamp), "v1,x "+vector.Signature+" v2,y", []byte(vector.Body))
	f.Add(vector.ID, "+1614265330", vector.Signature, []byte(vector.Body))
	f.Add(vector.ID, "01614265330", vector.Signature, []byte(vector.Body))
	f.Add(vector.ID, strconv.Itoa(vector.Timestamp), vector.Signature+",junk", []byte(vector.Body))
	f.Add("", "", "", []byte(nil))
	ref, err := standardwebhooks.NewWebhook(vector.Secret)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		// Judge the signature alone: our clock is the signed time, the
		// reference library ignores the timestamp.
		n, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || n < 0 {
			n = 0
		}
		v := verify.Standard{Secrets: []string{vector.Secret}, Now: func() time.Time { return time.Unix(n, 0) }}
		ours := v.Verify(h, body)
		theirs := ref.VerifyIgnoringTimestamp(body, h)
		if ours == nil && theirs != nil {
			t.Fatalf("outhook accepts what the reference rejects (%v): id=%q ts=%q sig=%q", theirs, id, ts, sig)
		}
	})
}

func FuzzStripeVsStripeGo(f *testing.F) {
	const secret = "whsec_test"
	good := "t=1614265330,v1=347e9afe3d74ec4c5cbefd270edc9246513ae3da7b375223e302560fbd4146eb"
	f.Add(good, []byte(`{"id":"evt_1"}`))
	f.Add(good+",v0=00", []byte(`{"id":"evt_1"}`))
	f.Add(strings.ToUpper(good), []byte(`{"id":"evt_1"}`))
	f.Add("t=1,t=2,v1=00", []byte(nil))
	f.Add("v1=347e9afe3d74ec4c5cbefd270edc9246513ae3da7b375223e302560fbd4146eb,t=1614265330", []byte(`{"id":"evt_1"}`))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		at := time.Unix(1614265330, 0)
		if i := strings.Index(header, "t="); i >= 0 {
			end := strings.IndexByte(header[i:], ',')
			if end < 0 {
				end = len(header) - i
			}
			if n, err := strconv.ParseInt(header[i+2:i+end], 10, 64); err == nil && n >= 0 {
				at = time.Unix(n, 0)
			}
		}
		v := verify.Stripe{Header: "S", Secrets: []string{secret}, Now: func() time.Time { return at }}
		ours := v.Verify(http.Header{"S": {header}}, body)
		theirs := stripewebhook.ValidatePayloadIgnoringTolerance(body, header, secret)
		if ours == nil && theirs != nil {
			t.Fatalf("outhook accepts what stripe-go rejects (%v): %q", theirs, header)
		}
	})
}

func FuzzHMACVsGitHub(f *testing.F) {
	const secret = "old-secret"
	f.Add("sha256=bc86246efdde123d36e3487a044188226ed52aa01f664d90a373b403f733ffdb", []byte(`{"id":"1","event":"post.created"}`))
	f.Add("sha256=BC86246EFDDE123D36E3487A044188226ED52AA01F664D90A373B403F733FFDB", []byte(`{"id":"1","event":"post.created"}`))
	f.Add("sha1=00", []byte(`{}`))
	f.Add("", []byte(`{}`))
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		v := verify.HMAC{Header: github.SHA256SignatureHeader, Prefix: "sha256=", Secrets: []string{secret}}
		h := http.Header{}
		h.Set(github.SHA256SignatureHeader, sig)
		h.Set("Content-Type", "application/json")
		ours := v.Verify(h, body)
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header = h
		_, theirs := github.ValidatePayload(r, []byte(secret))
		if ours == nil && theirs != nil {
			t.Fatalf("outhook accepts what go-github rejects (%v): %q", theirs, sig)
		}
	})
}
