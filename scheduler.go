package webhook

import (
	"context"
	"time"
)

// The scheduler: one claim loop hands due deliveries out, each attempt runs
// in a goroutine of its own, up to Config.Workers at once across all
// endpoints, and each endpoint gets at most its current allowance of them.
//
// Fairness comes from the allowance, not from the order deliveries are
// due in: an endpoint's backlog, however old, can hold no more than its
// allowance of the in-flight attempts, so the others always find room. The
// allowance adapts to how the endpoint behaves (additive increase,
// multiplicative decrease, as TCP does): a timeout, a connection error or
// an answer that asks to slow down (429, 502, 503, 504) halves it, down to
// one; a success grows it by one, up to Config.MaxInFlightPerEndpoint. An
// endpoint that hangs therefore ties up one attempt, not MaxInFlight.
//
// An attempt's worker is free once the endpoint has answered and the
// attempt is handed to the completer (completer.go), which records it in a
// batch; a failed attempt keeps its place in the endpoint's allowance until
// it is recorded, so an endpoint on its way to being disabled gets no more.

// claimCooldown is the longest a wake-up waits for a claim worth its round
// trip (see pace): attempts that finish meanwhile are claimed for together,
// rather than one claim per finished attempt.
const claimCooldown = 5 * time.Millisecond

// flow is what the scheduler knows of one endpoint.
type flow struct {
	inFlight  int // attempts running now
	allowance int // how many may run at once: 1 to MaxInFlightPerEndpoint
}

// claimLoop claims due deliveries while attempts may start, until
// Shutdown.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	ticker := time.NewTicker(d.cfg.PollInterval)
	defer ticker.Stop()
	var cooldown *time.Timer
	for {
		d.claimBatch(ctx)
		if d.stopping() { // select picks at random among ready cases
			return
		}
		select {
		case <-d.stop:
			return
		case <-ctx.Done():
			return
		case <-d.wakeCh:
			if !d.pace(ctx, &cooldown) {
				return
			}
		case <-ticker.C:
		}
	}
}

// pace waits, after a wake-up, until a claim is worth its round trip: a
// quarter of Workers can start (at once, when the dispatcher is idle, so a
// lone Publish goes out without delay), or claimCooldown has passed, in
// which more attempts finish and more events arrive. It reports false if
// the dispatcher stops meanwhile.
func (d *Dispatcher) pace(ctx context.Context, cooldown **time.Timer) bool {
	enough := max(1, d.cfg.Workers/4)
	if d.free() >= enough {
		return true
	}
	if *cooldown == nil {
		*cooldown = time.NewTimer(claimCooldown)
	} else {
		(*cooldown).Reset(claimCooldown)
	}
	for {
		select {
		case <-(*cooldown).C:
			return true
		case <-d.wakeCh:
			if d.free() >= enough {
				if !(*cooldown).Stop() {
					<-(*cooldown).C
				}
				return true
			}
		case <-d.stop:
			(*cooldown).Stop()
			return false
		case <-ctx.Done():
			(*cooldown).Stop()
			return false
		}
	}
}

// free is how many more attempts may start now.
func (d *Dispatcher) free() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.Workers - d.busy
}

// claimBatch starts due deliveries until none are due or Workers attempts
// are running.
func (d *Dispatcher) claimBatch(ctx context.Context) {
	for {
		d.mu.Lock()
		free := d.cfg.Workers - d.busy
		// Claim caps an endpoint at MaxPerEndpoint minus InFlight; counting
		// the part of the cap an endpoint has lost as in flight caps it at
		// its allowance.
		inFlight := make(map[string]int, len(d.flows))
		for id, f := range d.flows {
			inFlight[id] = f.inFlight + d.cfg.MaxInFlightPerEndpoint - f.allowance
		}
		d.mu.Unlock()
		if free <= 0 || ctx.Err() != nil || d.stopping() {
			return
		}
		claims, err := d.store.Claim(ctx, ClaimParams{
			Now:            d.cfg.Clock(),
			Lease:          d.cfg.Lease,
			Limit:          free,
			MaxPerEndpoint: d.cfg.MaxInFlightPerEndpoint,
			InFlight:       inFlight,
		})
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("webhook: claim failed", "err", err)
			}
			return
		}
		d.mu.Lock()
		for _, c := range claims {
			d.busy++
			d.flowOf(c.Endpoint.ID).inFlight++
		}
		d.mu.Unlock()
		for _, c := range claims {
			d.goRun(func() { d.attempt(ctx, c) })
		}
		if len(claims) < free {
			return
		}
	}
}

// attempt runs one claimed delivery and gives its place back: its worker
// as soon as the attempt is handed to the completer, its place in the
// endpoint's allowance then too, or, for a failure, once it is recorded.
func (d *Dispatcher) attempt(ctx context.Context, c *Claim) {
	held := d.deliver(ctx, c)
	d.mu.Lock()
	d.busy--
	if !held {
		d.leaveFlowLocked(c.Endpoint.ID)
	}
	d.mu.Unlock()
	d.wake() // room for another attempt, and this endpoint may have more due
}

// leaveFlow gives an attempt's place in its endpoint's allowance back.
func (d *Dispatcher) leaveFlow(endpointID string) {
	d.mu.Lock()
	d.leaveFlowLocked(endpointID)
	d.mu.Unlock()
	d.wake()
}

// leaveFlowLocked is leaveFlow with d.mu held, and without the wake-up.
func (d *Dispatcher) leaveFlowLocked(endpointID string) {
	f := d.flowOf(endpointID)
	f.inFlight--
	if f.inFlight <= 0 && f.allowance >= d.cfg.MaxInFlightPerEndpoint {
		delete(d.flows, endpointID) // nothing to remember
	}
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
// capacity and leave it as it is.
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
}
