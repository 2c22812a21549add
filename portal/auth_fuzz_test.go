package portal

import (
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// FuzzSessionToken: a portal link's token comes from outside. Whatever it
// holds, verifying it never panics, and only the tokens the handler signed
// itself, before they expire, name a tenant.
func FuzzSessionToken(f *testing.F) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	d, err := webhook.NewDispatcher(memstore.New(), nil)
	if err != nil {
		f.Fatal(err)
	}
	h, err := New(d, &Config{SessionKey: []byte(strings.Repeat("k", 32)), Clock: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("acme", int64(3600), "")
	f.Add("", int64(-1), "x.y.z")
	f.Add("ténant", int64(1), "YWNtZQ.9999999999.AAAA")
	f.Fuzz(func(t *testing.T, tenant string, ttlSec int64, forged string) {
		if _, ok := h.verifySession(forged); ok && !strings.Contains(forged, ".") {
			t.Fatalf("a token without its parts verified: %q", forged)
		}
		tok := h.signSession(tenant, now.Add(time.Duration(ttlSec)*time.Second))
		got, ok := h.verifySession(tok)
		switch {
		case ttlSec <= 0 || tenant == "":
			if ok {
				t.Fatalf("expired or empty-tenant token verified: %q (ttl %d)", tok, ttlSec)
			}
		case ttlSec < 1<<32 && (!ok || got != tenant):
			t.Fatalf("own token for %q did not verify: %q, %v", tenant, got, ok)
		}
		if ok && len(tok) > 1 {
			// Any change to the signed part breaks it.
			flipped := []byte(tok)
			flipped[0] ^= 1
			if t2, ok2 := h.verifySession(string(flipped)); ok2 && t2 == tenant {
				t.Fatalf("tampered token verified: %q", flipped)
			}
		}
	})
}
