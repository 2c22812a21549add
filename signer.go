package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
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
	Sign(h http.Header, m Message) error
}

// SecretValidator is an optional Signer ability, found by type assertion:
// it rejects custom secrets the signer cannot use.
type SecretValidator interface {
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

// StandardSigner signs the Standard Webhooks way (v1): webhook-id,
// webhook-timestamp (unix seconds) and webhook-signature, a space-separated
// list of "v1," + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), one
// per active secret. The key is the base64-decoded part of a "whsec_"
// secret.
type StandardSigner struct{}

// ValidateSecret accepts "whsec_" followed by standard base64 of 24 to 64
// bytes.
func (StandardSigner) ValidateSecret(secret string) error {
	_, err := standardKey(secret)
	return err
}

// Sign sets the three Standard Webhooks headers.
func (StandardSigner) Sign(h http.Header, m Message) error {
	if len(m.Secrets) == 0 {
		return errors.New("webhook: StandardSigner: no secret")
	}
	ts := strconv.FormatInt(m.Timestamp.Unix(), 10)
	sigs := make([]string, 0, len(m.Secrets))
	for _, s := range m.Secrets {
		key, err := standardKey(s)
		if err != nil {
			return err
		}
		sigs = append(sigs, "v1,"+standardSignature(key, m.ID, ts, m.Body))
	}
	h.Set(HeaderWebhookID, m.ID)
	h.Set(HeaderWebhookTimestamp, ts)
	h.Set(HeaderWebhookSignature, strings.Join(sigs, " "))
	return nil
}

func standardKey(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, &ValidationError{Field: "Secret", Reason: "must start with \"whsec_\" for Standard Webhooks signing; leave it empty to generate one"}
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, &ValidationError{Field: "Secret", Reason: "after \"whsec_\" must come standard base64 of 24 to 64 random bytes"}
	}
	return key, nil
}

func standardSignature(key []byte, id, ts string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// HMACSigner puts the hex HMAC-SHA256 of the raw body, keyed with the
// secret string's own bytes, in Header after Prefix: Header "Signature"
// gives ProductLift's form, "X-Hub-Signature-256" with Prefix "sha256="
// GitHub's. It also sets webhook-id so receivers can de-duplicate.
//
// During a rotation's grace period it signs with the newest secret only: a
// receiver that rotates accepts either secret until the grace period ends.
type HMACSigner struct {
	// Header is the header name. Defaults to "X-Signature".
	Header string
	Prefix string
}

// Sign sets Header and webhook-id.
func (s HMACSigner) Sign(h http.Header, m Message) error {
	if len(m.Secrets) == 0 {
		return errors.New("webhook: HMACSigner: no secret")
	}
	name := s.Header
	if name == "" {
		name = "X-Signature"
	}
	h.Set(HeaderWebhookID, m.ID)
	h.Set(name, s.Prefix+hexHMAC([]byte(m.Secrets[0]), m.Body))
	return nil
}

func hexHMAC(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verification errors returned by Verify.
var (
	ErrMissingSignature = errors.New("webhook: missing signature headers")
	ErrBadSignature     = errors.New("webhook: no matching signature")
	ErrTimestampTooOld  = errors.New("webhook: timestamp too old")
	ErrTimestampTooNew  = errors.New("webhook: timestamp too far in the future")
	ErrMalformedHeader  = errors.New("webhook: malformed signature header")
)

// DefaultTolerance is how far a receiver lets webhook-timestamp stray from
// its own clock, either way, before it rejects the delivery as a replay.
const DefaultTolerance = 5 * time.Minute

// Verify checks a Standard Webhooks delivery as a receiver would: the
// timestamp within DefaultTolerance of now, and at least one "v1,"
// signature in the header matching secret (compared in constant time).
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := standardKey(secret)
	if err != nil {
		return err
	}
	id, ts, sigHeader := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigHeader == "" {
		return ErrMissingSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp is not unix seconds", ErrMalformedHeader)
	}
	sent := time.Unix(sec, 0)
	if now.Sub(sent) > DefaultTolerance {
		return ErrTimestampTooOld
	}
	if sent.Sub(now) > DefaultTolerance {
		return ErrTimestampTooNew
	}
	want := []byte(standardSignature(key, id, ts, body))
	for _, sig := range strings.Fields(sigHeader) {
		v, ok := strings.CutPrefix(sig, "v1,")
		if ok && subtle.ConstantTimeCompare([]byte(v), want) == 1 {
			return nil
		}
	}
	return ErrBadSignature
}
