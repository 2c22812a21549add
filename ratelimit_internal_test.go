package webhook

import (
	"testing"
	"time"
)

// A slow answer halves a rate-limited endpoint's effective rate (down to
// rateScaleMin of it), a success grows it back, and an unlimited endpoint
// stays unlimited.
func TestBucketBackPressure(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var b bucket
	b.set(RateLimit{PerSecond: 10, Burst: 1}, now)
	if b.interval != 100*time.Millisecond {
		t.Fatalf("interval %s, want 100ms", b.interval)
	}
	if !b.take(now) || b.take(now) {
		t.Fatal("a burst of 1 gives one token")
	}
	if got := b.next(now); got != 100*time.Millisecond {
		t.Fatalf("next %s, want 100ms", got)
	}
	b.slow()
	if b.interval != 200*time.Millisecond {
		t.Fatalf("after a slow answer the interval is %s, want 200ms", b.interval)
	}
	for range 20 {
		b.slow()
	}
	if want := time.Duration(float64(time.Second) / (10 * rateScaleMin)); b.interval != want {
		t.Fatalf("the cut bottoms out at %s, got %s", want, b.interval)
	}
	for range 16 {
		b.ok()
	}
	if b.interval != 100*time.Millisecond || b.scale != 1 {
		t.Fatalf("successes grow the rate back to its limit: interval %s scale %g", b.interval, b.scale)
	}
	var u bucket
	u.slow()
	u.ok()
	if u.limited() {
		t.Fatal("back-pressure does not limit an unlimited endpoint's rate")
	}
	// A changed limit keeps the debt; clearing it ends the limit.
	b.set(RateLimit{PerSecond: 1, Burst: 2}, now)
	if got := b.available(now); got != 1 {
		t.Fatalf("available %d, want 1 (one of 2 spent)", got)
	}
	b.set(RateLimit{}, now)
	if b.limited() {
		t.Fatal("a zero RateLimit is no limit")
	}
}
