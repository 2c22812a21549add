package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/outhook/webhook/internal/sig"
	"github.com/outhook/webhook/verify"
)

// Message is what a Signer signs: one attempt of one delivery.
type Message struct {
	// ID is the event ID, the same on every attempt.
	ID string
	// Timestamp is when this attempt is sent.
	Timestamp time.Time
	// Body is exactly the bytes sent.
	Body []byte
	// Secrets are the endpoint's active secrets, newest first (several
	// during a rotation's grace period).
	Secrets []string
}

// Signer adds signature headers to an outgoing delivery. Implementations
// must be safe for concurrent use.
type Signer interface {
	// Sign sets the signature headers of one attempt on h.
	Sign(h http.Header, m Message) error
}

// SecretValidator is an optional Signer ability, found by type assertion:
// it rejects custom secrets the signer cannot use.
type SecretValidator interface {
	// ValidateSecret returns a *ValidationError if secret cannot sign.
	ValidateSecret(secret string) error
}

// SecretPrefix starts every generated secret and every secret
// StandardSigner accepts.
const SecretPrefix = "whsec_"

// GenerateSecret returns a new secret: SecretPrefix and the base64 of 32
// bytes from crypto/rand.
func GenerateSecret() (string, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", fmt.Errorf("webhook: generate secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key[:]), nil
}

// Standard Webhooks header names.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// The Standard Webhooks header names in canonical form, the keys
// http.Header.Set would use.
var (
	headerWebhookID        = http.CanonicalHeaderKey(HeaderWebhookID)
	headerWebhookTimestamp = http.CanonicalHeaderKey(HeaderWebhookTimestamp)
	headerWebhookSignature = http.CanonicalHeaderKey(HeaderWebhookSignature)
)

// setHeaders does h.Set(k, v) for each canonical key k given, in order,
// with one allocation for all their value slices; an empty k is skipped.
// Each slice is capped, so an Add to one header cannot write into the next.
func setHeaders(h http.Header, k1, v1, k2, v2, k3, v3 string) {
	n := 2
	if k3 != "" {
		n = 3
	}
	vs := make([]string, n)
	vs[0], vs[1] = v1, v2
	h[k1] = vs[0:1:1]
	h[k2] = vs[1:2:2]
	if k3 != "" {
		vs[2] = v3
		h[k3] = vs[2:3:3]
	}
}

// HeaderLister is an optional Signer ability, found by type assertion: it
// names the headers Sign sets besides webhook-id, so an endpoint's extra
// Headers cannot override them.
type HeaderLister interface {
	// SignatureHeaders lists the header names Sign sets.
	SignatureHeaders() []string
}

// StandardSigner signs the Standard Webhooks way (v1): webhook-id,
// webhook-timestamp (unix seconds) and webhook-signature, a space-separated
// list of "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), one
// per active secret, newest first. The key is the base64-decoded part of a
// "whsec_" secret.
//
// During a rotation's grace period every active secret signs, so a
// receiver holding either the old or the new secret accepts the delivery;
// receivers verify with package verify's Standard, or any Standard Webhooks
// library (Svix's included).
type StandardSigner struct{}

// ValidateSecret accepts "whsec_" followed by standard base64 of 24 to 64
// bytes.
func (StandardSigner) ValidateSecret(secret string) error {
	_, err := standardKey(secret)
	return err
}

// SignatureHeaders implements HeaderLister.
func (StandardSigner) SignatureHeaders() []string {
	return []string{HeaderWebhookTimestamp, HeaderWebhookSignature}
}

// Sign sets the three Standard Webhooks headers.
func (StandardSigner) Sign(h http.Header, m Message) error {
	if len(m.Secrets) == 0 {
		return errors.New("webhook: StandardSigner: no secret")
	}
	ts := m.Timestamp.Unix()
	mac := sig.GetMAC()
	defer sig.PutMAC(mac)
	// Both values in one string: the timestamp, then the signatures.
	out := strconv.AppendInt(mac.Out[:0], ts, 10)
	nts := len(out)
	for i, s := range m.Secrets {
		enc, ok := strings.CutPrefix(s, SecretPrefix)
		if !ok {
			return errStandardPrefix()
		}
		if mac.StartStandard(enc) != nil {
			return errStandardKey()
		}
		mac.WriteStandard(m.ID, ts, m.Body)
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, "v1,"...)
		out = base64.StdEncoding.AppendEncode(out, mac.Sum())
	}
	mac.Out = out
	v := string(out)
	setHeaders(h, headerWebhookID, m.ID, headerWebhookTimestamp, v[:nts], headerWebhookSignature, v[nts:])
	return nil
}

func standardKey(secret string) ([]byte, error) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return nil, errStandardPrefix()
	}
	key, err := sig.StandardKey(secret, true)
	if err != nil {
		return nil, errStandardKey()
	}
	return key, nil
}

func errStandardPrefix() error {
	return &ValidationError{Field: "Secret", Reason: "must start with \"whsec_\" for Standard Webhooks signing; leave it empty to generate one"}
}

func errStandardKey() error {
	return &ValidationError{Field: "Secret", Reason: "after \"whsec_\" must come standard base64 of 24 to 64 random bytes"}
}

// HMACSigner puts the hex HMAC-SHA256 of the raw body, keyed with the
// secret string's own bytes, in Header after Prefix: Header "Signature"
// gives ProductLift's form, "X-ProductBridge-Signature" ProductBridge's,
// "X-Hub-Signature-256" with Prefix "sha256=" GitHub's. It also sets
// webhook-id so receivers can de-duplicate.
//
// # Rotation
//
// The header carries one signature, so only one secret can sign. During a
// rotation's grace period HMACSigner signs with the oldest secret still
// active (the one receivers already hold) and switches to the newest when
// the grace period ends and the old secret expires. A receiver therefore
// never sees a signature it cannot check yet: on rotation it adds the new
// secret to its candidates (verify.HMAC{Secrets: []string{newSecret,
// oldSecret}}) at any time within the grace period, and drops the old one
// after it. To cut off a leaked secret at once, rotate with no grace
// period: the old secret expires immediately and the new one signs.
type HMACSigner struct {
	// Header is the header name. Defaults to "X-Signature".
	Header string
	// Prefix comes before the hex digits, e.g. "sha256=". Defaults to none.
	Prefix string
}

func (s HMACSigner) header() string {
	if s.Header == "" {
		return verify.DefaultHMACHeader
	}
	return s.Header
}

// SignatureHeaders implements HeaderLister.
func (s HMACSigner) SignatureHeaders() []string { return []string{s.header()} }

// Sign sets Header and webhook-id.
func (s HMACSigner) Sign(h http.Header, m Message) error {
	if len(m.Secrets) == 0 {
		return errors.New("webhook: HMACSigner: no secret")
	}
	secret := m.Secrets[len(m.Secrets)-1] // oldest active: see Rotation
	mac := sig.GetMAC()
	defer sig.PutMAC(mac)
	mac.StartString(secret)
	mac.Write(m.Body)
	out := append(mac.Out[:0], s.Prefix...)
	mac.Out = hex.AppendEncode(out, mac.Sum())
	setHeaders(h, headerWebhookID, m.ID, http.CanonicalHeaderKey(s.header()), string(mac.Out), "", "")
	return nil
}

// StripeSigner signs in Stripe's form, for senders who want replay
// protection without Standard Webhooks' three headers: Header carries
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>", keyed
// with the secret string's own bytes. Receivers check it with
// verify.Stripe or with Stripe's own libraries' signature check (given
// Header's value). It also sets webhook-id so receivers can de-duplicate.
//
// During a rotation's grace period every active secret signs, newest
// first, as one v1 entry each ("t=…,v1=new,v1=old"), the way Stripe rolls
// its own endpoint secrets: a receiver holding either secret accepts.
type StripeSigner struct {
	// Header is the header name. Defaults to "X-Webhook-Signature".
	Header string
}

func (s StripeSigner) header() string {
	if s.Header == "" {
		return verify.DefaultStripeHeader
	}
	return s.Header
}

// SignatureHeaders implements HeaderLister.
func (s StripeSigner) SignatureHeaders() []string { return []string{s.header()} }

// Sign sets Header and webhook-id.
func (s StripeSigner) Sign(h http.Header, m Message) error {
	if len(m.Secrets) == 0 {
		return errors.New("webhook: StripeSigner: no secret")
	}
	ts := m.Timestamp.Unix()
	mac := sig.GetMAC()
	defer sig.PutMAC(mac)
	out := strconv.AppendInt(append(mac.Out[:0], "t="...), ts, 10)
	for _, secret := range m.Secrets {
		mac.StartString(secret)
		mac.WriteStripe(ts, m.Body)
		out = hex.AppendEncode(append(out, ",v1="...), mac.Sum())
	}
	mac.Out = out
	setHeaders(h, headerWebhookID, m.ID, http.CanonicalHeaderKey(s.header()), string(out), "", "")
	return nil
}

// Verification errors returned by Verify: the same values as package
// verify's, so errors.Is works with either name.
var (
	ErrMissingSignature = verify.ErrMissingHeader
	ErrBadSignature     = verify.ErrNoMatch
	ErrTimestampTooOld  = verify.ErrTooOld
	ErrTimestampTooNew  = verify.ErrTooNew
	ErrMalformedHeader  = verify.ErrBadFormat
)

// DefaultTolerance is how far a receiver lets webhook-timestamp stray from
// its own clock, either way, before it rejects the delivery as a replay.
const DefaultTolerance = verify.DefaultTolerance

// Verify checks a Standard Webhooks delivery as a receiver would: the
// timestamp within DefaultTolerance of now, and at least one "v1,"
// signature in the header matching secret (compared in constant time).
//
// It is a shortcut for verify.Standard with one secret and a fixed clock.
// Receivers should use package verify, which also takes several secrets
// (rotation), a tolerance, the other schemes, and an http.Handler.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	return verify.Standard{Secrets: []string{secret}, Now: func() time.Time { return now }}.Verify(h, body)
}
