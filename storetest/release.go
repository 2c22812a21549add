package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// leaseOf names c's lease.
func leaseOf(c *webhook.Claim) webhook.Lease {
	return webhook.Lease{DeliveryID: c.Delivery.ID, Token: c.Token}
}

// release gives leases back through r, failing the test on error.
func (f *fixture) release(r webhook.Releaser, leases ...webhook.Lease) {
	f.t.Helper()
	require.NoError(f.t, r.Release(f.ctx, leases))
}

// oneClaimed returns a fixture on a Releaser and the claim, at base, of
// the one delivery of a new endpoint.
func oneClaimed(t *testing.T, newStore newStoreFunc) (*fixture, webhook.Releaser, *webhook.Claim) {
	t.Helper()
	f, r := optional[webhook.Releaser](t, newStore, "Releaser")
	ep := f.createEndpoint()
	_, ds := f.enqueue(base, ep)
	return f, r, f.claimOne(base, ds[0].ID)
}

// Releaser tests webhook.Releaser: a released delivery is claimable again
// at once (at its own due time), with no attempt recorded and Attempts,
// LastError and NextAttemptAt unchanged; a late Complete under the
// released token is ErrLeaseLost; a token that is not the delivery's
// latest, an ended delivery and an unknown one are left alone without
// error; an Ordered endpoint's deliveries go again once the one leased is
// released.
func (s Suite) Releaser(t *testing.T) {
	newStore := s.newStore()

	t.Run("released deliveries are claimable at once, unchanged", func(t *testing.T) {
		f, r := optional[webhook.Releaser](t, newStore, "Releaser")
		ep := f.createEndpoint()
		_, first := f.enqueue(base, ep)
		_, second := f.enqueueDue(base, at(time.Minute), ep)
		c := f.claimOne(base, first[0].ID)
		f.retry(c, at(time.Second), at(time.Minute)) // Attempts 1, LastError set
		before := f.getDelivery(first[0].ID)

		t1 := at(time.Minute)
		cs := f.claim(t1, 10)
		require.Len(t, cs, 2)
		assert.Empty(t, f.claim(t1, 10), "both are leased")
		f.release(r, leaseOf(cs[0]), leaseOf(cs[1]))
		again := f.claim(t1.Add(time.Second), 10)
		assert.ElementsMatch(t, []string{first[0].ID, second[0].ID}, deliveryIDs(again), "claimable again long before the lease ends")
		for _, c := range again {
			assert.NotEqual(t, cs[0].Token, c.Token)
			assert.NotEqual(t, cs[1].Token, c.Token)
		}

		got := f.getDelivery(first[0].ID)
		assert.Equal(t, webhook.StatePending, got.State)
		assert.Equal(t, 1, got.Attempts, "no attempt is counted")
		assert.Equal(t, before.LastError, got.LastError)
		assertTime(t, before.NextAttemptAt, got.NextAttemptAt, "NextAttemptAt")
		assert.Len(t, f.attempts(first[0].ID), 1, "no attempt is recorded")
		assert.Equal(t, 0, f.getDelivery(second[0].ID).Attempts)
	})

	t.Run("a released delivery waits for its due time", func(t *testing.T) {
		f, r, c := oneClaimed(t, newStore)
		id := c.Delivery.ID
		f.retry(c, at(time.Second), at(time.Hour))
		c = f.claimOne(at(time.Hour), id)
		f.release(r, leaseOf(c))
		assert.Empty(t, f.claim(at(time.Hour).Add(-time.Millisecond), 10), "not due before its time")
		f.claimOne(at(time.Hour), id)
	})

	t.Run("a late Complete under a released token is ErrLeaseLost", func(t *testing.T) {
		f, r, c := oneClaimed(t, newStore)
		id := c.Delivery.ID
		f.release(r, leaseOf(c))
		for _, outcome := range []webhook.Outcome{webhook.OutcomeSuccess, webhook.OutcomeRetry, webhook.OutcomeFail} {
			comp := completion(c, outcome, at(time.Second))
			comp.RetryAt = at(time.Hour)
			_, _, err := f.s.Complete(f.ctx, comp)
			require.ErrorIs(t, err, webhook.ErrLeaseLost, "outcome %v", outcome)
		}
		got := f.getDelivery(id)
		assert.Equal(t, webhook.StatePending, got.State)
		assert.Equal(t, 0, got.Attempts)
		assert.Empty(t, f.attempts(id))
		f.claimOne(at(time.Second), id)
	})

	t.Run("an expired lease not yet taken over: released, its token void", func(t *testing.T) {
		f, r, c := oneClaimed(t, newStore)
		t1 := base.Add(2 * lease)
		// A Claim after the lease's end that may not take the delivery (its
		// endpoint is at its cap): the old token would still complete.
		assert.Empty(t, f.claimP(webhook.ClaimParams{Now: t1, Lease: lease, Limit: 10,
			MaxPerEndpoint: 1, InFlight: map[string]int{c.Endpoint.ID: 1}}))
		f.release(r, leaseOf(c))
		_, _, err := f.s.Complete(f.ctx, completion(c, webhook.OutcomeSuccess, t1))
		require.ErrorIs(t, err, webhook.ErrLeaseLost)
		f.claimOne(t1, c.Delivery.ID)
	})

	t.Run("a stale token, an ended delivery and an unknown one are left alone", func(t *testing.T) {
		f, r := optional[webhook.Releaser](t, newStore, "Releaser")
		again, gone, ep := f.createEndpoint(), f.createEndpoint(), f.createEndpoint()
		_, x := f.enqueue(base, again)
		old := f.claimOne(base, x[0].ID)
		t1 := base.Add(2 * lease) // old's lease ended: claimed again
		current := f.claimOne(t1, x[0].ID)
		_, y := f.enqueue(t1, gone)
		deleted := f.claimOne(t1, y[0].ID)
		require.NoError(t, f.s.DeleteEndpoint(f.ctx, gone.ID))

		_, held := f.enqueue(t1, ep)
		_, done := f.enqueue(t1, ep)
		_, dead := f.enqueue(t1, ep)
		cs := f.claim(t1, 10)
		require.Len(t, cs, 3)
		by := map[string]*webhook.Claim{}
		for _, c := range cs {
			by[c.Delivery.ID] = c
		}
		f.succeed(by[done[0].ID], t1)
		f.fail(by[dead[0].ID], t1, 0)

		f.release(r,
			leaseOf(old),            // claimed again since, under another token
			leaseOf(deleted),        // deleted with its endpoint
			leaseOf(by[done[0].ID]), // succeeded
			leaseOf(by[dead[0].ID]), // failed
			webhook.Lease{DeliveryID: "00000000-0000-4000-8000-000000000000", Token: "nothing"},
			webhook.Lease{DeliveryID: held[0].ID, Token: by[held[0].ID].Token + "x"}, // a wrong token
		)
		assert.Empty(t, f.claim(t1, 10), "nothing was released")
		assert.Equal(t, webhook.StateSucceeded, f.getDelivery(done[0].ID).State)
		assert.Equal(t, 1, f.getDelivery(done[0].ID).Attempts)
		assert.Equal(t, webhook.StateFailed, f.getDelivery(dead[0].ID).State)
		f.succeed(current, t1)        // its lease holds
		f.succeed(by[held[0].ID], t1) // and so does this one
		f.release(r)                  // an empty list is no error
	})

	t.Run("a disable's ended deliveries stay ended", func(t *testing.T) {
		f, r, c := oneClaimed(t, newStore)
		require.NoError(t, f.s.DisableEndpoint(f.ctx, c.Endpoint.ID, "manual", at(time.Second)))
		f.release(r, leaseOf(c))
		got := f.getDelivery(c.Delivery.ID)
		assert.Equal(t, webhook.StateFailed, got.State)
		assert.Equal(t, webhook.ReasonEndpointDisabled, got.LastError)
		require.NoError(t, f.s.EnableEndpoint(f.ctx, c.Endpoint.ID, at(2*time.Second)))
		assert.Empty(t, f.claim(at(2*time.Second), 10))
	})

	t.Run("an Ordered endpoint goes on once its leased delivery is released", func(t *testing.T) {
		f, r := optional[webhook.Releaser](t, newStore, "Releaser")
		if o, ok := f.s.(webhook.OrderedStore); !ok || !o.OrdersDeliveries() {
			t.Skip("not an OrderedStore")
		}
		ep := f.createEndpoint(ordered)
		ds := f.publish(2, base, ep)
		head := f.claimOne(base, ds[0].ID)
		assert.Empty(t, f.claim(base, 10), "the head is in flight")
		f.release(r, leaseOf(head))
		head = f.claimOne(at(time.Second), ds[0].ID) // still first in publish order
		f.succeed(head, at(time.Second))
		next := f.claimOne(at(time.Second), ds[1].ID)
		f.release(r, leaseOf(next))
		f.claimOne(at(2*time.Second), ds[1].ID)
	})
}
