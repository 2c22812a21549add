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
// Rate limits (ratelimit.go) and Retry-After pauses hold an endpoint's
// deliveries in the Store rather than here. A SharedRateStore takes a
// token of the endpoint's bucket in the Store for each delivery it hands
// out (ratelimit_shared.go), which every Dispatcher shares, and may hand
// out the next token's delivery early, to wait here until its time
// (Claim.NotBefore); the Dispatcher's own bucket is a second cap, where
// back-pressure cuts the rate: while the endpoint's bucket has
// no token, or its pause lasts, Claim may take none of them (the flow counts
// the cap it may not use as in flight), and the claim loop sets a timer for
// when the next token is due or the pause ends. Deliveries claimed ahead
// never exceed the tokens; each attempt takes one as it starts, so a
// retry is charged like a first attempt. A slow answer also halves a
// rate-limited endpoint's effective rate, and a success grows it back.
//
// An attempt's worker is free once the endpoint has answered and the
// attempt is handed to the completer (completer.go), which records it in a
// batch; a failed attempt keeps its place in the endpoint's allowance until
// it is recorded, so an endpoint on its way to being disabled gets no more.

// claimCooldown is the longest a wake-up waits for a claim worth its round
// trip (see pace): attempts that finish meanwhile are claimed for together,
// rather than one claim per finished attempt.
const claimCooldown = 5 * time.Millisecond

// readyClaim is a claimed delivery waiting for a place to run.
type readyClaim struct {
	c  *Claim
	at time.Time // when it was claimed, by Config.Clock (the lease's clock)
	// reserved: a SharedRateStore handed it out with a token due later
	// (Claim.NotBefore). Reserved deliveries do not count against room,
	// so they cannot crowd other endpoints out of the claims; there is at
	// most about one per rate-limited endpoint (see TakeRateToken).
	reserved bool
}

// staleAfter is how long a delivery claimed ahead may wait for a place:
// half of what its lease has beyond the request and its recording, so an
// attempt that starts in time always ends within the lease (no second
// worker can claim it meanwhile). One that waited longer is not sent: it
// is dropped, and given back to a Releaser (release.go) or else comes up
// again when its lease ends.
func (d *Dispatcher) staleAfter() time.Duration {
	return (d.cfg.Lease - d.cfg.RequestTimeout - d.cfg.recordTimeout()) / 2
}

// dropReady drops the deliveries of endpointID claimed ahead, which read
// the endpoint before it was disabled, changed or deleted, and gives
// their leases back to a Releaser (release.go), so they are claimed again
// at once with the endpoint as it is now; with another Store they come up
// again when their leases end.
//
// They are given back also when the endpoint was disabled or deleted,
// though that ended its pending deliveries: not every one of them. On
// PostgreSQL a delivery published while the disabling transaction is
// open, after its UPDATE of the endpoint's pending deliveries, is not
// ended by it, and a Claim that runs before that transaction commits
// still reads the endpoint as enabled and leases it. Dropped without a
// Release, it would stay leased, and unsent, until its lease ends (2
// minutes by default); given back, the next Claim ends it as the disable
// would have. For the deliveries the disable did end, the Release
// changes nothing (it touches only pending deliveries). The endpoint's
// deliveries that a Claim on its way brings back are given back as well
// (claimBatch): that Claim read the endpoint before the change too.
func (d *Dispatcher) dropReady(ctx context.Context, endpointID string) {
	var dropped []*Claim
	d.mu.Lock()
	if d.claiming { // only a Claim on its way needs to know
		if d.droppedNow == nil {
			d.droppedNow = map[string]bool{}
		}
		d.droppedNow[endpointID] = true
	}
	kept := d.ready[:0]
	for _, rc := range d.ready {
		if rc.c.Endpoint.ID == endpointID {
			d.unreadyLocked(rc)
			dropped = append(dropped, rc.c)
			continue
		}
		kept = append(kept, rc)
	}
	clear(d.ready[len(kept):])
	d.ready = kept
	if f := d.flows[endpointID]; f != nil {
		d.forgetFlowLocked(endpointID, f)
	}
	d.mu.Unlock()
	d.release(ctx, dropped)
}

// claimLoop claims due deliveries while attempts may start, until
// Shutdown.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	ticker := time.NewTicker(d.cfg.PollInterval)
	defer ticker.Stop()
	var cooldown *time.Timer
	// due wakes the loop when a rate-limited or paused endpoint may take
	// more (nextDueLocked). Its durations are clock time, waited in wall
	// time: with a clock that runs apart from the wall's, PollInterval
	// still claims.
	due := time.NewTimer(time.Hour)
	due.Stop()
	defer due.Stop()
	for {
		failed := d.claimBatch(ctx)
		if d.stopping() { // select picks at random among ready cases
			return
		}
		d.mu.Lock()
		wait := d.nextDueLocked(d.cfg.Clock())
		d.mu.Unlock()
		if wait > 0 {
			if !due.Stop() {
				select {
				case <-due.C:
				default:
				}
			}
			due.Reset(max(wait, time.Millisecond))
		}
		wakeCh := d.wakeCh
		if failed {
			// A Claim failed: wait for the ticker rather than a wake-up,
			// which a failed Claim's own Release (the Store giving back
			// what it leased, with a NOTIFY) may have sent: a failure
			// that lasts must not make the loop spin.
			wakeCh = nil
		}
		select {
		case <-due.C:
		case <-d.stop:
			return
		case <-ctx.Done():
			return
		case <-wakeCh:
			if !d.pace(ctx, &cooldown) {
				return
			}
		case <-ticker.C:
		}
	}
}

// pace waits, after a wake-up, until a claim is worth its round trip: a
// quarter of Workers can be claimed for (at once, when the dispatcher is
// idle, so a lone Publish goes out without delay), or claimCooldown has
// passed, in which more attempts finish and more events arrive. It reports
// false if the dispatcher stops meanwhile.
func (d *Dispatcher) pace(ctx context.Context, cooldown **time.Timer) bool {
	enough := max(1, d.cfg.Workers/4)
	if d.room() >= enough {
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
			if d.room() >= enough {
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

// room is how many more deliveries may be claimed now: Workers may run
// and as many more wait, claimed ahead, for a place (see claimBatch).
func (d *Dispatcher) room() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.roomLocked()
}

func (d *Dispatcher) roomLocked() int {
	return 2*d.cfg.Workers - d.busy - (len(d.ready) - d.reserved)
}

// unreadyLocked counts rc out of the waiting deliveries, which the caller
// takes it from. The caller holds d.mu.
func (d *Dispatcher) unreadyLocked(rc readyClaim) {
	d.flowOf(rc.c.Endpoint.ID).ready--
	if rc.reserved {
		d.reserved--
	}
}

// rateAhead is ClaimParams.RateAhead: how far ahead a SharedRateStore
// may reserve a rate-limited endpoint's next token. A reservation waits
// in the Dispatcher (not counted against room) until its token is due, so
// this bounds how long: a second, and well within staleAfter. It lets the
// process that took a token claim the next one right after its attempt,
// so that several processes sharing one budget keep to its rate rather
// than waiting for PollInterval when none of them has an empty local
// bucket to set a timer by.
func (d *Dispatcher) rateAhead() time.Duration {
	return min(time.Second, d.staleAfter()/2)
}

// claimBatch claims due deliveries until none are due or there is no room,
// and starts those that may run.
//
// It claims ahead: claimed deliveries wait for a place (up to 2×Workers
// running and waiting together),
// and an endpoint at its full allowance may hold twice that (running and
// waiting; see holdLocked), so an attempt that ends starts the next at
// once, from its own goroutine, while the next Claim's round trip runs
// beside the attempts rather than between them. Claimed deliveries of an
// endpoint that this Dispatcher disables, changes or deletes meanwhile are
// dropped, and so is one that waited longer than staleAfter; those are
// given back to a Releaser at once (release.go), or else come up again
// when their lease ends. Shutdown runs the ones still waiting that may
// run, as it waits for the attempts in flight, and gives the others back.
//
// It reports whether a Claim failed.
func (d *Dispatcher) claimBatch(ctx context.Context) (failed bool) {
	d.startReady(ctx)
	for {
		d.mu.Lock()
		room := d.roomLocked()
		perEndpoint := 2 * d.cfg.MaxInFlightPerEndpoint
		// Claim caps an endpoint at MaxPerEndpoint minus InFlight.
		// Counting the part of the cap it may not use as in flight caps
		// it at twice its allowance when that is full, at its allowance
		// (nothing claimed ahead) when it was cut, at its tokens when it
		// is rate-limited, and at nothing while it is paused.
		now := d.cfg.Clock()
		inFlight := make(map[string]int, len(d.flows))
		for id, f := range d.flows {
			if n := perEndpoint - d.claimableLocked(f, now); n > 0 {
				inFlight[id] = n
			}
		}
		if room <= 0 || ctx.Err() != nil || d.stopping() {
			d.mu.Unlock()
			return false
		}
		d.claiming = true
		d.mu.Unlock()
		claims, err := d.store.Claim(ctx, ClaimParams{
			Now:            now,
			Lease:          d.cfg.Lease,
			Limit:          room,
			MaxPerEndpoint: perEndpoint,
			InFlight:       inFlight,
			RateLimit:      d.cfg.RateLimit,
			RateAhead:      d.rateAhead(),
		})
		if err != nil {
			d.mu.Lock()
			d.claiming = false
			clear(d.droppedNow)
			d.mu.Unlock()
			if ctx.Err() == nil {
				d.log.Error("webhook: claim failed", "err", err)
			}
			return true
		}
		var late []*Claim // of endpoints dropped while the Claim was on its way
		d.mu.Lock()
		for _, c := range claims {
			if d.droppedNow[c.Endpoint.ID] {
				late = append(late, c)
				continue
			}
			rc := readyClaim{c: c, at: now, reserved: c.NotBefore.After(now)}
			d.ready = append(d.ready, rc)
			if rc.reserved {
				d.reserved++
			}
			f := d.flowOf(c.Endpoint.ID)
			f.ready++
			f.bucket.set(d.limitOf(c.Endpoint), now)
		}
		d.claiming = false
		clear(d.droppedNow)
		d.mu.Unlock()
		d.startReady(ctx)
		d.release(ctx, late) // after the start: the attempts need not wait
		if len(claims) < room {
			return false
		}
	}
}

// startReady starts, each in a goroutine of its own, the waiting
// deliveries that may run now.
func (d *Dispatcher) startReady(ctx context.Context) {
	for {
		d.mu.Lock()
		c := d.takeReadyLocked()
		stale := d.takeStaleLocked()
		d.mu.Unlock()
		if c != nil {
			d.goRun(func() { d.attempt(ctx, c) })
		}
		d.release(ctx, stale) // after the start: the attempt need not wait
		if c == nil {
			return
		}
	}
}

// takeReadyLocked takes the first waiting delivery that may run now (a
// worker is free and its endpoint is under its allowance) and counts it
// as running; nil if none may. It drops the stale ones it passes into
// d.stale, for the caller to give back (takeStaleLocked, release) once it
// has let go of d.mu. The caller holds d.mu.
func (d *Dispatcher) takeReadyLocked() *Claim {
	if d.busy >= d.cfg.Workers || len(d.ready) == 0 {
		return nil
	}
	now, staleAfter := d.cfg.Clock(), d.staleAfter()
	for i := 0; i < len(d.ready); i++ {
		rc := d.ready[i]
		f := d.flowOf(rc.c.Endpoint.ID)
		stale := now.Sub(rc.at) > staleAfter
		if !stale && (f.inFlight >= f.allowance || rc.c.NotBefore.After(now)) {
			continue
		}
		if !stale && (f.bucket.limited() || !f.pausedUntil.IsZero()) && d.heldLocked(f, now) {
			continue
		}
		d.ready = append(d.ready[:i], d.ready[i+1:]...)
		d.unreadyLocked(rc)
		if stale {
			d.stale = append(d.stale, rc.c)
			d.forgetFlowLocked(rc.c.Endpoint.ID, f)
			i--
			continue
		}
		f.inFlight++
		d.busy++
		return rc.c
	}
	return nil
}

// attempt runs one claimed delivery and gives its place back: its worker
// as soon as the attempt is handed to the completer, its place in the
// endpoint's allowance then too, or, for a failure, once it is recorded.
// While a claimed delivery waits that may run, the goroutine runs it next.
func (d *Dispatcher) attempt(ctx context.Context, c *Claim) {
	for c != nil {
		held := d.deliver(ctx, c)
		d.mu.Lock()
		d.busy--
		if !held {
			d.leaveFlowLocked(c.Endpoint.ID)
		}
		c = d.takeReadyLocked()
		stale := d.takeStaleLocked()
		d.mu.Unlock()
		if len(stale) > 0 { // beside the next attempt, which must start now (staleAfter)
			d.goRun(func() { d.release(ctx, stale) })
		}
		d.wake() // room for another claim, and this endpoint may have more due
	}
}
