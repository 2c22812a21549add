package sig

import (
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"sync"
)

// MAC computes HMAC-SHA256 (RFC 2104) with a key given per use, so one
// pooled value serves every secret: crypto/hmac fixes the key at New and
// allocates five objects each time, which a signer paying per request
// cannot afford. The result is byte for byte crypto/hmac's (the tests
// compare them). A MAC is not safe for concurrent use; take one with
// GetMAC and give it back with PutMAC.
type MAC struct {
	h   hash.Hash
	k0  [sha256.BlockSize]byte // the key, hashed if longer than a block, zero-padded
	pad [sha256.BlockSize]byte
	sum [sha256.Size]byte
	// key holds a Standard Webhooks key decoded by StartStandard: the
	// largest whose encoding passes the length check decodes to at most
	// MaxStandardKey+2 bytes.
	key [MaxStandardKey + 2]byte
	buf []byte // scratch: strings copied for the hash, a secret to decode
	// Out is scratch for the caller, kept with its capacity across uses.
	Out []byte
}

var macs = sync.Pool{New: func() any { return &MAC{h: sha256.New()} }}

// GetMAC returns a MAC from the pool.
func GetMAC() *MAC { return macs.Get().(*MAC) }

// PutMAC returns m to the pool, its key material wiped: no secret waits
// in the pool for the next user. Scratch that grew past 64 KiB is dropped
// so one huge header does not stay pinned.
func PutMAC(m *MAC) {
	clear(m.k0[:])
	clear(m.pad[:])
	clear(m.key[:])
	clear(m.buf[:cap(m.buf)]) // secrets copied for StartString and StartStandard
	m.h.Reset()
	if cap(m.buf) > 64<<10 {
		m.buf = nil
	}
	if cap(m.Out) > 64<<10 {
		m.Out = nil
	}
	macs.Put(m)
}

// Start begins a MAC keyed with key.
func (m *MAC) Start(key []byte) {
	if len(key) > sha256.BlockSize {
		m.h.Reset()
		m.h.Write(key)
		key = m.h.Sum(m.sum[:0])
	}
	n := copy(m.k0[:], key)
	clear(m.k0[n:])
	for i, b := range m.k0 {
		m.pad[i] = b ^ 0x36
	}
	m.h.Reset()
	m.h.Write(m.pad[:])
}

// StartString is Start with the key given as a string: its own bytes.
func (m *MAC) StartString(key string) {
	m.buf = append(m.buf[:0], key...)
	m.Start(m.buf)
}

// StartStandard begins a MAC keyed with a Standard Webhooks secret's key:
// enc is the secret after "whsec_", decoded as StandardKey decodes it. It
// returns ErrStandardSecret, and starts nothing, when StandardKey would.
func (m *MAC) StartStandard(enc string) error {
	if base64.StdEncoding.DecodedLen(len(enc)) > len(m.key) {
		// Whatever it holds decodes to more than MaxStandardKey bytes,
		// or does not decode.
		return ErrStandardSecret
	}
	m.buf = append(m.buf[:0], enc...)
	n, err := base64.StdEncoding.Decode(m.key[:], m.buf)
	if err != nil || n < MinStandardKey || n > MaxStandardKey {
		return ErrStandardSecret
	}
	m.Start(m.key[:n])
	return nil
}

// Write adds p to the message.
func (m *MAC) Write(p []byte) { m.h.Write(p) }

// WriteString adds s to the message.
func (m *MAC) WriteString(s string) {
	m.buf = append(m.buf[:0], s...)
	m.h.Write(m.buf)
}

// Sum finishes the MAC and returns it. The slice is m's own: it is valid
// until m's next use.
func (m *MAC) Sum() []byte {
	inner := m.h.Sum(m.sum[:0])
	for i, b := range m.k0 {
		m.pad[i] = b ^ 0x5c
	}
	m.h.Reset()
	m.h.Write(m.pad[:])
	m.h.Write(inner)
	return m.h.Sum(m.sum[:0])
}

// AppendStandardMessage appends "{id}.{ts}." to dst, the part of the
// Standard Webhooks signed content before the body.
func AppendStandardMessage(dst []byte, id string, ts int64) []byte {
	dst = append(dst, id...)
	dst = append(dst, '.')
	dst = appendInt(dst, ts)
	return append(dst, '.')
}

// WriteStandard adds "{id}.{ts}.{body}" to the message.
func (m *MAC) WriteStandard(id string, ts int64, body []byte) {
	m.buf = AppendStandardMessage(m.buf[:0], id, ts)
	m.h.Write(m.buf)
	m.h.Write(body)
}

// WriteStripe adds "{ts}.{body}" to the message.
func (m *MAC) WriteStripe(ts int64, body []byte) {
	m.buf = append(appendInt(m.buf[:0], ts), '.')
	m.h.Write(m.buf)
	m.h.Write(body)
}
