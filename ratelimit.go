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
// Back-pressure: an answer that asks to slow down (429, 502, 503, 504), a
// timeout or a connection error halves the endpoint's effective rate, down
// to 1/64 of PerSecond, and each success grows it back by 1/16 of it. A
// Retry-After on a 429 or 503 pauses the endpoint, limited or not, until
// the time it names (at most Config.MaxRetryAfter away).
//
// With a Store that implements SharedRateStore (memstore, sqlstore from
// schema version 8) the bucket is kept in the Store and shared: N
// Dispatchers on one database together keep the rate (TakeRateToken). With
// another Store each Dispatcher keeps its own, and N of them may together
// send up to N times the rate. Either way each Dispatcher also keeps a
// bucket of its own, where back-pressure cuts the rate, and the rate cuts
// and Retry-After pauses hold only in the Dispatcher whose attempt met
// them. See the README, "Rate limits and back-pressure".
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
// (Config.Clock), kept as GCRA does: the theoretical arrival time tat of
// the next attempt, in whole nanoseconds, so that a rate of 10/s sends
// exactly one per 100 ms however the clock is read. The bucket is full
// when tat is not after now; each attempt moves tat on by one interval,
// and an attempt may start while tat is at most burst-1 intervals ahead.
// A zero bucket (rate 0) is no limit.
type bucket struct {
	rate     float64       // the endpoint's limit, tokens a second; 0: none
	burst    int           // the bucket's size
	scale    float64       // back-pressure: the share of rate in force, rateScaleMin to 1
	interval time.Duration // one token at rate*scale
	tat      time.Time     // when the bucket is full again
}

// limited reports whether the bucket limits anything.
func (b *bucket) limited() bool { return b.rate > 0 }

// set applies the endpoint's limit l at now. A new limit starts full; a
// changed one keeps the debt it has.
func (b *bucket) set(l RateLimit, now time.Time) {
	if l.PerSecond == b.rate && l.burst() == b.burst {
		return
	}
	if l.PerSecond == 0 {
		*b = bucket{}
		return
	}
	if !b.limited() {
		*b = bucket{scale: 1, tat: now}
	}
	b.rate, b.burst = l.PerSecond, l.burst()
	b.setInterval()
}

// setInterval computes interval from rate and scale.
func (b *bucket) setInterval() {
	b.interval = max(time.Duration(math.Round(float64(time.Second)/(b.rate*b.scale))), 1)
}

// available is how many attempts may start at now.
func (b *bucket) available(now time.Time) int {
	ahead := max(b.tat.Sub(now), 0) // the debt
	slack := time.Duration(b.burst-1)*b.interval - ahead
	if slack < 0 {
		return 0
	}
	return int(slack/b.interval) + 1
}

// take takes a token at now if there is one.
func (b *bucket) take(now time.Time) bool {
	if b.available(now) < 1 {
		return false
	}
	if b.tat.Before(now) {
		b.tat = now
	}
	b.tat = b.tat.Add(b.interval)
	return true
}

// full reports whether the bucket is full at now, back-pressure gone:
// forgetting it then loses nothing.
func (b *bucket) full(now time.Time) bool {
	return !b.tat.After(now) && b.scale >= 1
}

// next is how long after now the next token is due; 0 if one is there.
func (b *bucket) next(now time.Time) time.Duration {
	if b.available(now) > 0 {
		return 0
	}
	return b.tat.Add(-time.Duration(b.burst-1) * b.interval).Sub(now)
}

// slow cuts the effective rate after a slow answer.
func (b *bucket) slow() {
	if b.limited() {
		b.scale = max(rateScaleMin, b.scale/2)
		b.setInterval()
	}
}

// ok grows the effective rate back after a success.
func (b *bucket) ok() {
	if b.limited() && b.scale < 1 {
		b.scale = min(1, b.scale+rateScaleStep)
		b.setInterval()
	}
}
