package webhook

import (
	"math"
	"time"
)

// SharedRateStore is an optional Store ability, found by type assertion:
// the Store keeps each rate-limited endpoint's token bucket itself, and
// Claim takes a token for every delivery of such an endpoint it hands out,
// so that every Dispatcher claiming from the Store draws on one budget: N
// processes on one database send at the endpoint's rate, not N times it.
//
// A rate-limited endpoint is one with a RateLimit of its own, or, when it
// has none, any endpoint while ClaimParams.RateLimit (Config.RateLimit) is
// set. For each delivery of one, Claim calls TakeRateToken (or does what
// it does) on the endpoint's bucket state at ClaimParams.Now with
// ClaimParams.RateAhead, hands the delivery out only if a token was
// granted, sets the Claim's NotBefore to the token's due time, and stores
// the bucket's new state in the same atomic step as the lease. Deliveries
// left without a token stay pending as if capped by MaxPerEndpoint (they
// do not hold back other endpoints'). Concurrent Claims must not grant one
// token twice: on a database, the endpoint's row is locked for the
// update. Unlimited endpoints' deliveries are claimed as before, without
// touching any bucket.
//
// Tokens are taken per attempt (a retry is claimed again, and takes
// another), when the delivery is claimed: a claimed delivery that is never
// attempted (its Dispatcher stopped, or dropped it) used its token. The
// Dispatcher keeps its own bucket per endpoint too, which is where
// back-pressure cuts the rate (see RateLimit); Retry-After pauses stay per
// process.
type SharedRateStore interface {
	RateLimitStore
	// SharesRateLimits marks the ability; it does nothing.
	SharesRateLimits()
}

// TakeRateToken takes one token from a rate-limit bucket kept as GCRA
// does, for a SharedRateStore's Claim. The bucket's state is tat, the time
// it is full again (the zero time: full); l is the endpoint's limit
// (its own, or ClaimParams.RateLimit) and must limit something.
//
// It grants the next token if that is due by now plus a horizon: ahead,
// but no more than one interval of l (or claimLookahead, 10 ms, for rates
// above 100/s), so a Claim reserves at most the token after those due now
// and an attempt never waits long in its Dispatcher. It returns when the
// token is due (now, or the future time the Claim's NotBefore says) and
// the bucket's state after it, which the Store keeps; ok is false, and
// nothing is taken, when no token is due within the horizon.
//
// Times are whole nanoseconds, so that N grants at rate r are exactly
// N/r seconds apart however the Store keeps them.
func TakeRateToken(l RateLimit, tat, now time.Time, ahead time.Duration) (due, after time.Time, ok bool) {
	if l.PerSecond <= 0 {
		return now, tat, true
	}
	interval := max(time.Duration(math.Round(float64(time.Second)/l.PerSecond)), 1)
	horizon := min(max(ahead, 0), max(interval, claimLookahead))
	if tat.Before(now) {
		tat = now
	}
	due = tat.Add(-time.Duration(l.burst()-1) * interval)
	if due.After(now.Add(horizon)) {
		return time.Time{}, tat, false
	}
	if due.Before(now) {
		due = now
	}
	return due, tat.Add(interval), true
}

// RateLimitOf is the rate limit a SharedRateStore's Claim applies to ep:
// its own, or p.RateLimit when it has none. Its PerSecond is 0 when ep is
// unlimited.
func (p ClaimParams) RateLimitOf(ep *Endpoint) RateLimit {
	return ep.RateLimit.or(p.RateLimit)
}

// or is r, or def when r sets no limit.
func (r RateLimit) or(def RateLimit) RateLimit {
	if r.IsZero() {
		return def
	}
	return r
}
