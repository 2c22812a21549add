package webhook

import "context"

// Giving claims back: the Dispatcher claims ahead (scheduler.go), and a
// claimed delivery it then does not attempt (its endpoint changed, it
// waited too long, Shutdown came first) would otherwise stay leased until
// its lease ends (Config.Lease), late for no reason. With a Releaser it
// hands such leases back to the Store at once.

// Lease names one claim of a delivery: the delivery and the token it was
// claimed under (Claim.Token).
type Lease struct {
	DeliveryID string
	Token      string
}

// Releaser is an optional Store ability, found by type assertion: give
// back the leases of claimed deliveries that were never attempted, so that
// they are claimable again at once rather than when their leases end. The
// Dispatcher uses it for the deliveries it claimed ahead and then drops
// (their endpoint was updated, deactivated, disabled, deleted or had its
// secret rotated by this Dispatcher; they waited too long for a place)
// and for those still waiting for a rate-limit token, a Retry-After pause
// or their Claim.NotBefore when Shutdown ends. A Store without it lets those
// leases run out.
//
// Release ends, in one atomic step, the lease of every listed delivery
// that is still pending under exactly that token: the delivery is then
// claimable again at its own due time (NextAttemptAt), as if it had never
// been claimed, with no attempt recorded and Attempts, LastError and
// NextAttemptAt unchanged; an Ordered endpoint's next delivery may go once
// no other is leased. A late Complete under a released token records
// nothing and returns ErrLeaseLost, as after a lease taken over: the
// attempt that token stood for never ran. A listed delivery claimed again
// under another token, ended (completed, failed by a disable), deleted or
// unknown is left alone, without error. A rate-limit token a
// SharedRateStore took for the claim is not given back. An error means
// nothing was released; the leases then end on their own.
//
// A Store that wraps another by embedding it gets the embedded Release,
// which is right as long as the claims it hands out are the embedded
// Store's.
type Releaser interface {
	// Release ends the listed leases, in one atomic step.
	Release(ctx context.Context, leases []Lease) error
}

// release gives the leases of claims this Dispatcher will not attempt back
// to a Releaser, and wakes the claim loop for them; without one it does
// nothing (the leases run out). It does store I/O: never call it with d.mu
// held. It is bounded as the recording of an attempt is (recordContext):
// an error is logged, not returned, as the lease brings the deliveries
// back anyway.
func (d *Dispatcher) release(ctx context.Context, claims []*Claim) {
	if len(claims) == 0 {
		return
	}
	r, ok := d.store.(Releaser)
	if !ok {
		return
	}
	leases := make([]Lease, len(claims))
	for i, c := range claims {
		leases[i] = Lease{DeliveryID: c.Delivery.ID, Token: c.Token}
	}
	rctx, cancel := d.recordContext(ctx)
	defer cancel()
	if err := r.Release(rctx, leases); err != nil {
		if d.abortRec.Err() == nil { // not Shutdown running out of time
			d.log.Warn("webhook: giving back claimed deliveries failed; they come up again when their leases end",
				"deliveries", len(leases), "err", err)
		}
		return
	}
	d.wake()
}

// takeStaleLocked returns the stale claims takeReadyLocked dropped since
// the last call, for the caller to release once it has let go of d.mu.
// The caller holds d.mu.
func (d *Dispatcher) takeStaleLocked() []*Claim {
	s := d.stale
	d.stale = nil
	return s
}

// releaseLeft gives back, once every goroutine of the Dispatcher has
// returned at Shutdown, the claims still waiting in d.ready: those that
// could not start before the workers ran out of work (held by a rate
// limit, a Retry-After pause or Claim.NotBefore). ctx is Start's.
func (d *Dispatcher) releaseLeft(ctx context.Context) {
	d.mu.Lock()
	left := d.takeStaleLocked()
	for _, rc := range d.ready {
		d.unreadyLocked(rc)
		left = append(left, rc.c)
	}
	d.ready = nil
	d.mu.Unlock()
	d.release(ctx, left)
}
