// Package sig holds the MAC computations shared by the signers in package
// webhook and the verifiers in package verify, so the sending and receiving
// sides cannot drift apart.
package sig

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// StandardPrefix starts a Standard Webhooks secret.
const StandardPrefix = "whsec_"

// Key length bounds for Standard Webhooks secrets, in decoded bytes.
const (
	MinStandardKey = 24
	MaxStandardKey = 64
)

// ErrStandardSecret says a Standard Webhooks secret does not decode.
var ErrStandardSecret = errors.New("secret is not \"whsec_\" followed by standard base64 of 24 to 64 bytes")

// StandardKey decodes a Standard Webhooks secret: "whsec_" (required when
// requirePrefix, optional otherwise, as the reference libraries allow)
// followed by standard base64 of 24 to 64 bytes.
func StandardKey(secret string, requirePrefix bool) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, StandardPrefix)
	if !ok && requirePrefix {
		return nil, ErrStandardSecret
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) < MinStandardKey || len(key) > MaxStandardKey {
		return nil, ErrStandardSecret
	}
	return key, nil
}

// Standard returns the base64 of HMAC-SHA256(key, "{id}.{ts}.{body}"), the
// Standard Webhooks v1 signature without its "v1," tag. ts is written in
// canonical decimal, as the reference libraries do when they verify.
func Standard(key []byte, id string, ts int64, body []byte) string {
	m := GetMAC()
	defer PutMAC(m)
	m.Start(key)
	m.WriteStandard(id, ts, body)
	return base64.StdEncoding.EncodeToString(m.Sum())
}

// Body returns HMAC-SHA256(key, body): the plain scheme.
func Body(key, body []byte) []byte {
	m := GetMAC()
	defer PutMAC(m)
	m.Start(key)
	m.Write(body)
	return append([]byte(nil), m.Sum()...)
}

// Stripe returns HMAC-SHA256(key, "{ts}.{body}"), Stripe's v1 scheme.
func Stripe(key []byte, ts int64, body []byte) []byte {
	m := GetMAC()
	defer PutMAC(m)
	m.Start(key)
	m.WriteStripe(ts, body)
	return append([]byte(nil), m.Sum()...)
}

// appendInt writes ts in canonical decimal, as strconv.FormatInt does.
func appendInt(dst []byte, ts int64) []byte { return strconv.AppendInt(dst, ts, 10) }
