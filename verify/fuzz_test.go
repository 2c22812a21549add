package verify

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outhook/webhook/internal/sig"
)

// Fuzz targets for every header parser and verifier. `make test` runs
// their seed corpora; `make fuzz` runs each for FUZZTIME.

const fuzzSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var fuzzKey, _ = sig.StandardKey(fuzzSecret, true)

func FuzzParseUnix(f *testing.F) {
	for _, s := range []string{"0", "1614265330", "+1", "-1", " 1", "1e9", "9223372036854775807", "9223372036854775808", "00001", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseUnix(s)
		if err != nil {
			return
		}
		if n < 0 || strings.TrimLeft(s, "0") != strings.TrimLeft(strconv.FormatInt(n, 10), "0") {
			t.Fatalf("parseUnix(%q) = %d", s, n)
		}
	})
}

func FuzzParseStandardSignatures(f *testing.F) {
	for _, s := range []string{
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v1,a v1,b", "v1a,xyz v1,abc", "v2,abc", ",", "v1,", ",abc", "   ", "v1,a,b",
		strings.Repeat("v1,a ", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		sigs, err := parseStandardSignatures(h)
		if err != nil {
			if !errors.Is(err, ErrBadFormat) && !errors.Is(err, ErrNoMatch) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(sigs) == 0 || len(sigs) > maxSignatures {
			t.Fatalf("%d signatures without error", len(sigs))
		}
		for _, s := range sigs {
			if s == "" || !strings.Contains(h, "v1,"+s) {
				t.Fatalf("signature %q not from %q", s, h)
			}
		}
	})
}

func FuzzParseStripeHeader(f *testing.F) {
	good := "t=1614265330,v1=" + strings.Repeat("ab", 32)
	for _, s := range []string{good, good + ",v0=00", "v1=00,t=1", "t=1", "t=1,t=2", "t=x,v1=00", "=", ",,", "t=1,v1=" + strings.Repeat("zz", 32)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		ts, sigs, err := parseStripeHeader(h)
		if err != nil {
			if !errors.Is(err, ErrBadFormat) && !errors.Is(err, ErrNoMatch) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if ts < 0 || len(sigs) == 0 || strings.Count(h, "t=") == 0 {
			t.Fatalf("parse %q: t=%d, %d sigs", h, ts, len(sigs))
		}
		for _, s := range sigs {
			if len(s) != 32 || !strings.Contains(strings.ToLower(h), "v1="+hex.EncodeToString(s)) {
				t.Fatalf("signature %x not from %q", s, h)
			}
		}
	})
}

func FuzzParseHexSignature(f *testing.F) {
	f.Add(strings.Repeat("0a", 32), "")
	f.Add("sha256="+strings.Repeat("0A", 32), "sha256=")
	f.Add("sha1=abc", "sha256=")
	f.Fuzz(func(t *testing.T, val, prefix string) {
		b, err := parseHexSignature(val, prefix)
		if err != nil {
			if !errors.Is(err, ErrBadFormat) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(b) != 32 || !strings.EqualFold(val, prefix+hex.EncodeToString(b)) {
			t.Fatalf("parse %q after %q: %x", val, prefix, b)
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add("application/json", []byte(`{"id":"e","type":"a.b","timestamp":"2021-02-25T15:02:10Z","data":{}}`))
	f.Add("application/x-www-form-urlencoded", []byte(`payload=%7B%22id%22%3A1%7D`))
	f.Add("", []byte(`{"timestamp":1e400}`))
	f.Add("text/plain;;", []byte(`{"id":{"x":1}}`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		env, err := ParseEnvelope(ct, body, "hdr")
		if err == nil && env.ID == "" {
			t.Fatal("envelope without an ID although the header had one")
		}
	})
}

// FuzzStandard checks Standard's one security property on arbitrary input:
// it accepts only when the header carries, as a v1 entry, the signature
// computed from the very id, timestamp and body; and that a correctly
// signed delivery is accepted and a changed body rejected.
func FuzzStandard(f *testing.F) {
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("id", "1614265330", "v1,x v1,y", []byte("{}"))
	f.Add("", "", "", []byte(nil))
	f.Add("id.1", "01614265330", "v1,abc", []byte("."))
	f.Fuzz(func(t *testing.T, id, ts, sigHeader string, body []byte) {
		now := time.Unix(1614265330, 0)
		v := Standard{Secrets: []string{fuzzSecret}, Now: func() time.Time { return now }}
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sigHeader)
		if err := v.Verify(h, body); err == nil {
			n, perr := strconv.ParseInt(ts, 10, 64)
			want := "v1," + sig.Standard(fuzzKey, id, n, body)
			if perr != nil || !containsField(sigHeader, want) {
				t.Fatalf("accepted id=%q ts=%q sig=%q", id, ts, sigHeader)
			}
		}
		// Round trip with the fuzzed id and body, signed at the fuzzed
		// time when it is one.
		n, err := parseUnix(ts)
		if err != nil || id == "" {
			return
		}
		now = time.Unix(n, 0)
		h.Set(HeaderSignature, "v1,"+sig.Standard(fuzzKey, id, n, body))
		if err := v.Verify(h, body); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if err := v.Verify(h, append(body, 'x')); !errors.Is(err, ErrNoMatch) {
			t.Fatalf("changed body: got %v", err)
		}
	})
}

func containsField(h, want string) bool {
	for _, e := range strings.Split(h, " ") {
		if e == want {
			return true
		}
	}
	return false
}

func FuzzHMAC(f *testing.F) {
	f.Add("secret", "sha256=", "sha256="+strings.Repeat("00", 32), []byte("{}"))
	f.Add("s", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, secret, prefix, val string, body []byte) {
		if secret == "" {
			return
		}
		v := HMAC{Secrets: []string{secret}, Header: "Signature", Prefix: prefix}
		want := prefix + hex.EncodeToString(sig.Body([]byte(secret), body))
		h := http.Header{"Signature": {val}}
		if err := v.Verify(h, body); err == nil && !strings.EqualFold(val, want) {
			t.Fatalf("accepted %q, want %q", val, want)
		}
		h.Set("Signature", want)
		if err := v.Verify(h, body); err != nil && want != "" && h.Get("Signature") == want {
			t.Fatalf("own signature rejected: %v", err)
		}
		if err := v.Verify(h, append(body, 0)); err == nil {
			t.Fatal("changed body accepted")
		}
	})
}

func FuzzStripe(f *testing.F) {
	f.Add("whsec_x", "t=1614265330,v1="+strings.Repeat("00", 32), []byte("{}"))
	f.Add("s", "t=1,v1=,v1=", []byte(nil))
	f.Fuzz(func(t *testing.T, secret, val string, body []byte) {
		if secret == "" {
			return
		}
		now := time.Unix(1614265330, 0)
		v := Stripe{Secrets: []string{secret}, Header: "Sig", Now: func() time.Time { return now }}
		h := http.Header{"Sig": {val}}
		if err := v.Verify(h, body); err == nil {
			ts, sigs, _ := parseStripeHeader(val)
			want := sig.Stripe([]byte(secret), ts, body)
			found := false
			for _, s := range sigs {
				found = found || hmac.Equal(s, want)
			}
			if !found {
				t.Fatalf("accepted %q", val)
			}
		}
		h.Set("Sig", "t=1614265330,v1="+hex.EncodeToString(sig.Stripe([]byte(secret), 1614265330, body)))
		if err := v.Verify(h, body); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if err := v.Verify(h, append(body, 0)); !errors.Is(err, ErrNoMatch) {
			t.Fatalf("changed body: got %v", err)
		}
	})
}

// FuzzHandler sends arbitrary signature headers and bodies through Handler:
// Next runs only for a correctly signed body, and refusals carry no detail.
func FuzzHandler(f *testing.F) {
	f.Add("id", "1614265330", "v1,abc", []byte(`{"id":"x"}`), false)
	f.Add("id", "1614265330", "", []byte(`{}`), true)
	f.Add("", "x", "v1,", []byte(nil), true)
	f.Fuzz(func(t *testing.T, id, ts, sigHeader string, body []byte, signIt bool) {
		now := time.Unix(1614265330, 0)
		v := Standard{Secrets: []string{fuzzSecret}, Now: func() time.Time { return now }}
		called := false
		h := &Handler{Verifier: v, MaxBodyBytes: 4096, Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			called = true
			p, ok := FromContext(r.Context())
			if !ok || !bytes.Equal(p.Body, body) {
				t.Fatal("payload missing or changed")
			}
		})}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set(HeaderID, id)
		r.Header.Set(HeaderTimestamp, ts)
		if n, err := parseUnix(ts); signIt && err == nil {
			sigHeader = "v1," + sig.Standard(fuzzKey, id, n, body)
			now = time.Unix(n, 0)
		}
		r.Header.Set(HeaderSignature, sigHeader)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		verr := v.Verify(r.Header, body)
		_, perr := ParseEnvelope("", body, id)
		if called != (verr == nil && perr == nil && len(body) <= 4096) {
			t.Fatalf("called=%v verify=%v envelope=%v", called, verr, perr)
		}
		if !called && strings.TrimSpace(w.Body.String()) != http.StatusText(w.Code) {
			t.Fatalf("refusal body %q", w.Body.String())
		}
	})
}
