package verify

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/outhook/webhook/internal/sig"
)

// Errors about what the sender sent. Verify methods wrap them with detail
// for the receiver's own logs; never send that detail back to the caller
// (Handler answers with a bare status).
var (
	// ErrMissingHeader: a header the scheme needs is absent or empty.
	ErrMissingHeader = errors.New("webhook: missing signature header")
	// ErrBadFormat: a header is present but does not parse.
	ErrBadFormat = errors.New("webhook: malformed signature header")
	// ErrNoMatch: the headers parse, but no signature in them matches any
	// candidate secret.
	ErrNoMatch = errors.New("webhook: no matching signature")
	// ErrTooOld: the signed timestamp is further in the past than the
	// tolerance (a replay, or a delivery that waited too long).
	ErrTooOld = errors.New("webhook: timestamp too old")
	// ErrTooNew: the signed timestamp is further in the future than the
	// tolerance (a clock far off, or a forged future replay window).
	ErrTooNew = errors.New("webhook: timestamp too far in the future")
)

// Errors about how the receiver is configured.
var (
	// ErrNoSecret: the verifier has no secrets, or an empty one.
	ErrNoSecret = errors.New("webhook: verifier has no secret")
	// ErrBadSecret: a Standard Webhooks secret does not decode.
	ErrBadSecret = errors.New("webhook: bad verifier secret")
)

// DefaultTolerance is how far a signed timestamp may stray from the
// receiver's clock, either way, before the delivery is rejected: five
// minutes, as Standard Webhooks and Stripe recommend.
const DefaultTolerance = 5 * time.Minute

// Default header names, the ones the matching signers in package webhook
// default to.
const (
	DefaultHMACHeader   = "X-Signature"
	DefaultStripeHeader = "X-Webhook-Signature"
)

// Standard Webhooks header names.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// A Verifier checks a delivery's headers against its raw body. A nil error
// means the body is authentic and, for timestamped schemes, fresh.
type Verifier interface {
	// Verify checks h against the raw body; nil means authentic.
	Verify(h http.Header, body []byte) error
}

// Standard verifies Standard Webhooks v1: webhook-timestamp within
// Tolerance of Now, and at least one "v1," entry of the space-separated
// webhook-signature equal to base64(HMAC-SHA256(key,
// "{webhook-id}.{webhook-timestamp}.{body}")) for one of Secrets.
type Standard struct {
	// Secrets are the candidate secrets, "whsec_" and base64 of the key
	// (the prefix may be left out, as the reference libraries allow). List
	// the old and the new one while a rotation is under way.
	Secrets []string
	// Tolerance bounds the timestamp's distance from Now, both ways.
	// Defaults to DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Verify implements Verifier.
func (v Standard) Verify(h http.Header, body []byte) error {
	if len(v.Secrets) == 0 {
		return ErrNoSecret
	}
	keys := make([][]byte, len(v.Secrets))
	for i, s := range v.Secrets {
		k, err := sig.StandardKey(s, false)
		if err != nil {
			return fmt.Errorf("%w: Secrets[%d]: %v", ErrBadSecret, i, err)
		}
		keys[i] = k
	}
	id, tsv, sigv := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	switch {
	case id == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderID)
	case tsv == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderTimestamp)
	case sigv == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderSignature)
	}
	ts, err := parseUnix(tsv)
	if err != nil {
		return fmt.Errorf("%w: %s is not unix seconds", ErrBadFormat, HeaderTimestamp)
	}
	sigs, err := parseStandardSignatures(sigv)
	if err != nil {
		return err
	}
	if err := checkTime(ts, v.Tolerance, v.Now); err != nil {
		return err
	}
	match := 0
	for _, k := range keys {
		want := []byte(sig.Standard(k, id, ts, body))
		for _, s := range sigs {
			match |= subtle.ConstantTimeCompare(want, []byte(s))
		}
	}
	if match == 1 {
		return nil
	}
	return ErrNoMatch
}

// HMAC verifies the plain scheme: Header holds Prefix followed by the hex
// HMAC-SHA256 of the raw body, keyed with one of Secrets' bytes as written.
// It has no timestamp, so it cannot reject replays by itself: de-duplicate
// on webhook-id.
type HMAC struct {
	// Secrets are the candidate secrets, used as written (a "whsec_" secret
	// is not decoded). List the old and the new one while rotating.
	Secrets []string
	// Header is the header name. Defaults to DefaultHMACHeader.
	Header string
	// Prefix comes before the hex digits, e.g. "sha256=" for GitHub's form.
	// Empty: none.
	Prefix string
}

// Verify implements Verifier.
func (v HMAC) Verify(h http.Header, body []byte) error {
	name, val, err := singleHeader(h, v.Header, DefaultHMACHeader, v.Secrets)
	if err != nil {
		return err
	}
	got, err := parseHexSignature(val, v.Prefix)
	if err != nil {
		return fmt.Errorf("%w: %s", err, name)
	}
	ok := false
	for _, s := range v.Secrets {
		if hmac.Equal(sig.Body([]byte(s), body), got) {
			ok = true
		}
	}
	if ok {
		return nil
	}
	return ErrNoMatch
}

// Stripe verifies Stripe's form: Header holds "t=<unix>,v1=<hex>[,v1=…]",
// t within Tolerance of Now, and one v1 equal to the hex HMAC-SHA256 of
// "<t>.<body>" keyed with one of Secrets' bytes as written. Unknown keys
// (v0, future versions) are ignored.
type Stripe struct {
	// Secrets are the candidate secrets, used as written. List the old and
	// the new one while rotating.
	Secrets []string
	// Header is the header name. Defaults to DefaultStripeHeader.
	Header string
	// Tolerance bounds t's distance from Now, both ways. Defaults to
	// DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Verify implements Verifier.
func (v Stripe) Verify(h http.Header, body []byte) error {
	name, val, err := singleHeader(h, v.Header, DefaultStripeHeader, v.Secrets)
	if err != nil {
		return err
	}
	ts, sigs, err := parseStripeHeader(val)
	if err != nil {
		return fmt.Errorf("%w: %s", err, name)
	}
	if err := checkTime(ts, v.Tolerance, v.Now); err != nil {
		return err
	}
	match := false
	for _, s := range v.Secrets {
		want := sig.Stripe([]byte(s), ts, body)
		for _, got := range sigs {
			if hmac.Equal(want, got) {
				match = true
			}
		}
	}
	if match {
		return nil
	}
	return ErrNoMatch
}

// singleHeader checks a one-header scheme's secrets and returns the
// header's name (given, or def) and value.
func singleHeader(h http.Header, name, def string, secrets []string) (string, string, error) {
	if err := checkSecrets(secrets); err != nil {
		return "", "", err
	}
	if name == "" {
		name = def
	}
	val := h.Get(name)
	if val == "" {
		return "", "", fmt.Errorf("%w: %s", ErrMissingHeader, name)
	}
	return name, val, nil
}

func checkSecrets(secrets []string) error {
	if len(secrets) == 0 {
		return ErrNoSecret
	}
	for i, s := range secrets {
		if s == "" {
			return fmt.Errorf("%w: Secrets[%d] is empty", ErrNoSecret, i)
		}
	}
	return nil
}

// checkTime applies the tolerance window to a signed unix timestamp.
func checkTime(ts int64, tolerance time.Duration, now func() time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	n := time.Now
	if now != nil {
		n = now
	}
	// Compare in whole seconds: ts has no finer resolution, and this keeps
	// huge values (years away) from overflowing a time.Duration.
	cur := n().Unix()
	tol := int64(tolerance / time.Second)
	switch {
	case ts < cur && cur-ts > tol:
		return fmt.Errorf("%w: sent %ds ago, tolerance %v", ErrTooOld, cur-ts, tolerance)
	case ts > cur && ts-cur > tol:
		return fmt.Errorf("%w: sent %ds ahead, tolerance %v", ErrTooNew, ts-cur, tolerance)
	}
	return nil
}

// maxTimestampLen bounds a timestamp's digits: unix seconds fit in 19.
const maxTimestampLen = 19

// parseUnix reads decimal unix seconds: digits only (no sign, no spaces),
// at most 19 of them.
func parseUnix(s string) (int64, error) {
	if s == "" || len(s) > maxTimestampLen {
		return 0, ErrBadFormat
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrBadFormat
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// maxSignatures bounds how many entries a signature header may carry;
// rotation needs two or three.
const maxSignatures = 32

// parseStandardSignatures returns the base64 payloads of the "v1," entries
// of a webhook-signature value. Entries are separated by single spaces;
// entries of other versions are skipped. It fails with ErrBadFormat when no
// entry has the "version,signature" form, and with ErrNoMatch when some do
// but none is v1.
func parseStandardSignatures(h string) ([]string, error) {
	var out []string
	wellFormed := false
	n := 0
	for _, e := range strings.Split(h, " ") {
		if e == "" {
			continue
		}
		if n++; n > maxSignatures {
			return nil, fmt.Errorf("%w: more than %d signatures", ErrBadFormat, maxSignatures)
		}
		version, s, ok := strings.Cut(e, ",")
		if !ok || version == "" || s == "" {
			continue
		}
		wellFormed = true
		if version == "v1" {
			out = append(out, s)
		}
	}
	switch {
	case !wellFormed:
		return nil, fmt.Errorf("%w: %s has no \"version,signature\" entry", ErrBadFormat, HeaderSignature)
	case len(out) == 0:
		return nil, fmt.Errorf("%w: no v1 signature", ErrNoMatch)
	}
	return out, nil
}

// parseHexSignature strips prefix and hex-decodes a 32-byte HMAC-SHA256.
func parseHexSignature(val, prefix string) ([]byte, error) {
	hexSig, ok := strings.CutPrefix(val, prefix)
	if !ok {
		return nil, fmt.Errorf("%w: expected prefix %q", ErrBadFormat, prefix)
	}
	if len(hexSig) != 2*32 {
		return nil, fmt.Errorf("%w: not 64 hex digits", ErrBadFormat)
	}
	b, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, fmt.Errorf("%w: not 64 hex digits", ErrBadFormat)
	}
	return b, nil
}

// parseStripeHeader reads "t=<unix>,v1=<hex>[,v1=<hex>…][,other=…]":
// exactly one t, at least one v1 of 64 hex digits (v1 entries that are not
// are skipped, as Stripe's libraries do), other keys ignored.
func parseStripeHeader(val string) (int64, [][]byte, error) {
	var (
		ts    int64
		haveT bool
		sigs  [][]byte
		n     int
	)
	for _, part := range strings.Split(val, ",") {
		if n++; n > maxSignatures+2 {
			return 0, nil, fmt.Errorf("%w: too many entries", ErrBadFormat)
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return 0, nil, fmt.Errorf("%w: %q is not key=value", ErrBadFormat, truncate(part))
		}
		switch k {
		case "t":
			if haveT {
				return 0, nil, fmt.Errorf("%w: t given twice", ErrBadFormat)
			}
			t, err := parseUnix(v)
			if err != nil {
				return 0, nil, fmt.Errorf("%w: t is not unix seconds", ErrBadFormat)
			}
			ts, haveT = t, true
		case "v1":
			if len(v) != 64 {
				continue
			}
			b, err := hex.DecodeString(v)
			if err != nil {
				continue
			}
			sigs = append(sigs, b)
		}
	}
	switch {
	case !haveT:
		return 0, nil, fmt.Errorf("%w: no t=", ErrBadFormat)
	case len(sigs) == 0:
		return 0, nil, fmt.Errorf("%w: no v1 signature", ErrNoMatch)
	}
	return ts, sigs, nil
}

// truncate keeps error messages about hostile input short.
func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
