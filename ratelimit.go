package webhook

import (
	"fmt"
	"math"
	"time"
)

// RateLimit caps how fast attempts go to an endpoint: PerSecond attempts a
// second on average, with bursts of up to Burst at once (a token bucket:
// Burst tokens, refilled at PerSecond, one taken by every attempt,
// retries included). The zero RateLimit means no limit of the endpoint's
// own: Config.RateLimit applies, and when that is zero too the endpoint is
// unlimited.
//
// The limit is kept by each Dispatcher (process) on its own: N
// Dispatchers sharing one database may together send up to N times the
// rate. See the README, "Rate limits and back-pressure".
type RateLimit struct {
	// PerSecond is the sustained rate, MinRatePerSecond to
	// MaxRatePerSecond; 0: no limit.
	PerSecond float64
	// Burst is how many attempts may start at once after a quiet spell,
	// 1 to MaxRateBurst; 0: 1. It needs PerSecond.
	Burst int
}

// Bounds of a RateLimit.
const (
	MinRatePerSecond = 1.0 / 3600 // one attempt an hour
	MaxRatePerSecond = 1e6
	MaxRateBurst     = 1 << 20
)

// IsZero reports whether r sets no limit.
func (r RateLimit) IsZero() bool { return r.PerSecond == 0 && r.Burst == 0 }

// burst is r.Burst with its default.
func (r RateLimit) burst() int { return max(r.Burst, 1) }

// check validates r; field names it ("RateLimit" or "Config.RateLimit").
func (r RateLimit) check(field string) error {
	switch p := r.PerSecond; {
	case math.IsNaN(p) || math.IsInf(p, 0):
		return invalid(field+".PerSecond", "must be a finite number: %g to %g, or 0 for no limit", MinRatePerSecond, MaxRatePerSecond)
	case p < 0, p > 0 && p < MinRatePerSecond, p > MaxRatePerSecond:
		return invalid(field+".PerSecond", "%g is out of range: %g to %g, or 0 for no limit", p, MinRatePerSecond, MaxRatePerSecond)
	}
	switch {
	case r.Burst < 0 || r.Burst > MaxRateBurst:
		return invalid(field+".Burst", "%d is out of range: 1 to %d, or 0 for 1", r.Burst, MaxRateBurst)
	case r.Burst > 0 && r.PerSecond == 0:
		return invalid(field+".Burst", "needs PerSecond: a burst without a rate limits nothing")
	}
	return nil
}

// RateLimitStore is an optional Store ability, found by type assertion:
// the Store keeps Endpoint.RateLimit. CreateEndpoint and UpdateEndpoint
// store it as configuration, and GetEndpoint, ListEndpoints, Claim and
// Complete return it. The Dispatcher refuses an endpoint with a RateLimit
// of its own (ErrNotSupported) when the Store lacks this ability;
// Config.RateLimit works with every Store.
type RateLimitStore interface {
	Store
	// KeepsRateLimit marks the ability; it does nothing.
	KeepsRateLimit()
}

// checkRateLimitStore refuses a RateLimit the Store would not keep.
func (d *Dispatcher) checkRateLimitStore(ep *Endpoint) error {
	if ep.RateLimit.IsZero() {
		return nil
	}
	if _, ok := d.store.(RateLimitStore); !ok {
		return fmt.Errorf("%w: an endpoint's RateLimit needs a Store that implements RateLimitStore (memstore, sqlstore); Config.RateLimit works with any", ErrNotSupported)
	}
	return nil
}

// Back-pressure on a rate: a slow answer (see adapt) halves an endpoint's
// effective rate, down to rateScaleMin of its limit; each success grows
// it back by rateScaleStep of its limit.
const (
	rateScaleMin  = 1.0 / 64
	rateScaleStep = 1.0 / 16
)

// bucket is the token bucket of one rate-limited endpoint, in clock time
// (Config.Clock). A zero bucket (rate 0) is no limit.
type bucket struct {
	rate   float64   // the endpoint's limit, tokens a second; 0: none
	burst  float64   // the bucket's size
	scale  float64   // back-pressure: the share of rate in force, rateScaleMin to 1
	tokens float64   // tokens at last
	last   time.Time // when tokens was computed
}

// limited reports whether the bucket limits anything.
func (b *bucket) limited() bool { return b.rate > 0 }

// set applies the endpoint's limit l at now, keeping the tokens it has
// (up to the new burst). A new limit starts full.
func (b *bucket) set(l RateLimit, now time.Time) {
	if l.PerSecond == b.rate && float64(l.burst()) == b.burst {
		return
	}
	if l.PerSecond == 0 {
		*b = bucket{}
		return
	}
	if !b.limited() {
		*b = bucket{scale: 1, tokens: float64(l.burst()), last: now}
	} else {
		b.refill(now)
	}
	b.rate, b.burst = l.PerSecond, float64(l.burst())
	b.tokens = min(b.tokens, b.burst)
}

// refill adds the tokens earned since last.
func (b *bucket) refill(now time.Time) {
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt.Seconds()*b.rate*b.scale)
		b.last = now
	}
}

// available is how many whole tokens the bucket holds at now.
func (b *bucket) available(now time.Time) int {
	b.refill(now)
	return int(b.tokens)
}

// take takes a token at now if there is one.
func (b *bucket) take(now time.Time) bool {
	b.refill(now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// full reports whether the bucket is full at now: forgetting it then
// loses nothing.
func (b *bucket) full(now time.Time) bool {
	b.refill(now)
	return b.tokens >= b.burst && b.scale >= 1
}

// next is how long after now the next token is due.
func (b *bucket) next(now time.Time) time.Duration {
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	secs := (1 - b.tokens) / (b.rate * b.scale)
	return time.Duration(math.Ceil(secs * float64(time.Second)))
}

// slow cuts the effective rate after a slow answer.
func (b *bucket) slow(now time.Time) {
	if b.limited() {
		b.refill(now)
		b.scale = max(rateScaleMin, b.scale/2)
	}
}

// ok grows the effective rate back after a success.
func (b *bucket) ok(now time.Time) {
	if b.limited() && b.scale < 1 {
		b.refill(now)
		b.scale = min(1, b.scale+rateScaleStep)
	}
}
