package webhook

import (
	"context"
	"time"
)

// What the scheduler (scheduler.go) knows and decides per endpoint: its
// flow (attempts in flight, deliveries claimed ahead, the adaptive
// allowance), its rate-limit bucket and Retry-After pause, how many more
// of its deliveries a claim may take, and how an answer moves them.

// flow is what the scheduler knows of one endpoint.
type flow struct {
	inFlight  int // attempts running now (and failures not yet recorded)
	ready     int // claimed, waiting in Dispatcher.ready for a place
	allowance int // how many may run at once: 1 to MaxInFlightPerEndpoint

	// Rate limit and back-pressure, in clock time (Config.Clock).
	bucket      bucket    // the endpoint's token bucket; zero: unlimited
	pausedUntil time.Time // no attempt starts before (Retry-After)
}

// limitOf is the rate limit in force for ep: its own, or Config's.
func (d *Dispatcher) limitOf(ep *Endpoint) RateLimit {
	return ep.RateLimit.or(d.cfg.RateLimit)
}

// claimLookahead is how far ahead of a rate-limited endpoint's next token
// the claim loop claims for it, so that the Claim's round trip runs before
// the token is due rather than after: deliveries claimed ahead never
// exceed the tokens due within it.
const claimLookahead = 10 * time.Millisecond

// claimableLocked is how many more deliveries f's endpoint may have
// claimed at now: what its allowance leaves (see holdLocked), no more than
// its tokens, none while it is paused. The caller holds d.mu.
func (d *Dispatcher) claimableLocked(f *flow, now time.Time) int {
	n := d.holdLocked(f) - f.inFlight - f.ready
	if f.bucket.limited() {
		n = min(n, f.bucket.available(now.Add(claimLookahead))-f.ready)
	}
	if now.Before(f.pausedUntil) {
		n = 0
	}
	return max(n, 0)
}

// heldLocked reports whether f's endpoint may not start an attempt at now
// for its rate limit or pause, and takes a token if it may. The caller
// holds d.mu.
func (d *Dispatcher) heldLocked(f *flow, now time.Time) bool {
	return now.Before(f.pausedUntil) || f.bucket.limited() && !f.bucket.take(now)
}

// nextDueLocked is how long until a rate-limited or paused endpoint may
// take more: its next token or the end of its pause; 0 if none waits. It
// forgets flows that hold nothing worth remembering. The caller holds
// d.mu.
func (d *Dispatcher) nextDueLocked(now time.Time) time.Duration {
	var next time.Duration
	soonest := func(w time.Duration) {
		if w > 0 && (next == 0 || w < next) {
			next = w
		}
	}
	for id, f := range d.flows {
		if !f.bucket.limited() && f.pausedUntil.IsZero() {
			continue
		}
		soonest(f.pausedUntil.Sub(now))
		if f.bucket.limited() {
			if nx := f.bucket.next(now); nx > 0 {
				if f.ready == 0 { // claim it ahead (claimLookahead)
					nx = max(nx-claimLookahead, claimCooldown)
				}
				soonest(nx)
			}
		}
		d.forgetFlowLocked(id, f)
	}
	if d.reserved > 0 { // reservations start when their token is due
		for _, rc := range d.ready {
			if rc.reserved {
				soonest(rc.c.NotBefore.Sub(now))
			}
		}
	}
	return next
}

// holdLocked is how many deliveries f's endpoint may hold, running and
// claimed ahead: twice its allowance when that is full (the endpoint keeps
// up), its allowance when it was cut (a slow endpoint gets nothing claimed
// ahead, which would only wait).
func (d *Dispatcher) holdLocked(f *flow) int {
	if f.allowance >= d.cfg.MaxInFlightPerEndpoint {
		return 2 * f.allowance
	}
	return f.allowance
}

// leaveFlow gives an attempt's place in its endpoint's allowance back,
// and starts what that lets run.
func (d *Dispatcher) leaveFlow(ctx context.Context, endpointID string) {
	d.mu.Lock()
	d.leaveFlowLocked(endpointID)
	d.mu.Unlock()
	d.startReady(ctx)
	d.wake()
}

// leaveFlowLocked is leaveFlow with d.mu held, starting nothing.
func (d *Dispatcher) leaveFlowLocked(endpointID string) {
	f := d.flowOf(endpointID)
	f.inFlight--
	d.forgetFlowLocked(endpointID, f)
}

// keepLimitedFlows is how many flows the dispatcher keeps before it
// forgets those of rate-limited endpoints that hold nothing (full bucket,
// nothing running or claimed ahead). A kept flow caps the endpoint's next
// Claim at its tokens; a forgotten one lets that Claim take up to
// 2*MaxInFlightPerEndpoint of its deliveries, and those beyond its burst
// wait claimed for a token (at most staleAfter; then they go back to the
// Store until their lease ends).
const keepLimitedFlows = 4096

// forgetFlowLocked drops f when it holds nothing worth remembering: no
// attempt, no delivery claimed ahead, its full allowance and no pause; for
// a rate-limited endpoint, also a full bucket, and only while the flows
// number more than keepLimitedFlows.
func (d *Dispatcher) forgetFlowLocked(endpointID string, f *flow) {
	if f.inFlight > 0 || f.ready > 0 || f.allowance < d.cfg.MaxInFlightPerEndpoint {
		return
	}
	if f.bucket.limited() || !f.pausedUntil.IsZero() {
		now := d.cfg.Clock()
		if now.Before(f.pausedUntil) || f.bucket.limited() && (!f.bucket.full(now) || len(d.flows) <= keepLimitedFlows) {
			return
		}
	}
	delete(d.flows, endpointID)
}

// flowOf returns the endpoint's flow, made at full allowance if new. The
// caller holds d.mu.
func (d *Dispatcher) flowOf(endpointID string) *flow {
	f := d.flows[endpointID]
	if f == nil {
		f = &flow{allowance: d.cfg.MaxInFlightPerEndpoint}
		d.flows[endpointID] = f
	}
	return f
}

// adapt moves the endpoint's allowance after an attempt answered r: down
// when the endpoint is slow or asks to slow down, up when it succeeds.
// Other failures (a 500 answered at once, a 404) say nothing about its
// capacity and leave it as it is. A rate-limited endpoint's effective rate
// moves with it (bucket.slow, bucket.ok), and a Retry-After (429, 503)
// pauses the endpoint in this process until the time it names, at most
// Config.MaxRetryAfter away.
func (d *Dispatcher) adapt(endpointID string, r response) {
	slow := r.err != nil && !r.local
	switch r.status {
	case 429, 502, 503, 504:
		slow = true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.flowOf(endpointID)
	switch {
	case slow:
		f.allowance = max(1, f.allowance/2)
	case r.success():
		f.allowance = min(d.cfg.MaxInFlightPerEndpoint, f.allowance+1)
	}
	if !f.bucket.limited() && r.retryAfter <= 0 {
		return
	}
	now := d.cfg.Clock()
	switch {
	case slow:
		f.bucket.slow()
	case r.success():
		f.bucket.ok()
	}
	if r.retryAfter > 0 {
		if until := now.Add(min(r.retryAfter, d.cfg.MaxRetryAfter)); until.After(f.pausedUntil) {
			f.pausedUntil = until
		}
	}
}
