package sig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"testing"
)

func want(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// TestMACMatchesCryptoHMAC checks the pooled MAC against crypto/hmac for
// keys shorter than, equal to and longer than a SHA-256 block, reusing
// one MAC across keys as the pool does.
func TestMACMatchesCryptoHMAC(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := GetMAC()
	defer PutMAC(m)
	for klen := 0; klen <= 200; klen++ {
		key := make([]byte, klen)
		for i := range key {
			key[i] = byte(r.Uint32())
		}
		body := make([]byte, r.IntN(3000))
		for i := range body {
			body[i] = byte(r.Uint32())
		}
		m.Start(key)
		m.Write(body)
		if got, w := m.Sum(), want(key, body); !hmac.Equal(got, w) {
			t.Fatalf("key length %d: body MAC differs", klen)
		}
		m.StartString(string(key))
		m.WriteStripe(1614265330, body)
		if got, w := m.Sum(), want(key, []byte("1614265330."), body); !hmac.Equal(got, w) {
			t.Fatalf("key length %d: Stripe MAC differs", klen)
		}
		m.Start(key)
		m.WriteStandard("msg_1", -5, body)
		if got, w := m.Sum(), want(key, []byte("msg_1.-5."), body); !hmac.Equal(got, w) {
			t.Fatalf("key length %d: Standard MAC differs", klen)
		}
	}
}

// TestStartStandardMatchesStandardKey checks that StartStandard accepts
// exactly the secrets StandardKey accepts, with the same key.
func TestStartStandardMatchesStandardKey(t *testing.T) {
	m := GetMAC()
	defer PutMAC(m)
	var encs []string
	for n := 0; n <= 70; n++ {
		enc := base64.StdEncoding.EncodeToString(make([]byte, n))
		encs = append(encs, enc, enc[:max(len(enc)-1, 0)], enc+"=", "!"+enc, base64.RawStdEncoding.EncodeToString(make([]byte, n)))
	}
	encs = append(encs, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", " ")
	for _, enc := range encs {
		key, kerr := StandardKey(enc, false)
		err := m.StartStandard(enc)
		if (err == nil) != (kerr == nil) {
			t.Fatalf("%q: StartStandard %v, StandardKey %v", enc, err, kerr)
		}
		if err != nil {
			continue
		}
		m.WriteStandard("id", 7, []byte("b"))
		if got, w := m.Sum(), want(key, []byte("id.7.b")); !hmac.Equal(got, w) {
			t.Fatalf("%q: MAC differs", enc)
		}
	}
}

func TestMACAllocatesNothing(t *testing.T) {
	if race {
		t.Skip("allocation counts differ under the race detector")
	}
	body := make([]byte, 300)
	n := testing.AllocsPerRun(100, func() {
		m := GetMAC()
		if err := m.StartStandard("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
			t.Fatal(err)
		}
		m.WriteStandard("msg_"+strconv.Itoa(1), 1614265330, body)
		m.Out = base64.StdEncoding.AppendEncode(m.Out[:0], m.Sum())
		PutMAC(m)
	})
	if n != 0 {
		t.Errorf("%v allocations per MAC, want 0", n)
	}
}
