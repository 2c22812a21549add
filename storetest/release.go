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
		f, r := optional[webhook.Releaser](t, newStore, "Releaser")
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		f.retry(c, at(time.Second), at(time.Hour))
		c = f.claimOne(at(time.Hour), ds[0].ID)
		f.release(r, leaseOf(c))
		f.claimOne(at(time.Hour), ds[0].ID)
	})

	t.Run("a late Complete under a released token is ErrLeaseLost", func(t *testing.T) {
		f, r := optional[webhook.Releaser](t, newStore, "Releaser")
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		f.release(r, leaseOf(c))
		for _, outcome := range []webhook.Outcome{webhook.OutcomeSuccess, webhook.OutcomeRetry, webhook.OutcomeFail} {
			comp := completion(c, outcome, at(time.Second))
			comp.RetryAt = at(time.Hour)
			_, _, err := f.s.Complete(f.ctx, comp)
			require.ErrorIs(t, err, webhook.ErrLeaseLost, "outcome %v", outcome)
		}
		got := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StatePending, got.State)
		assert.Equal(t, 0, got.Attempts)
		assert.Empty(t, f.attempts(ds[0].ID))
		f.claimOne(at(time.Second), ds[0].ID)
	})

	t.Run("an expired lease released: due as before, its token void", func(t *testing.T) {
		f, r := optional[webhook.Releaser](t, newStore, "Releaser")
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		f.release(r, leaseOf(c)) // one a Claim past its end would have taken over
		_, _, err := f.s.Complete(f.ctx, completion(c, webhook.OutcomeSuccess, base.Add(2*lease)))
		require.ErrorIs(t, err, webhook.ErrLeaseLost)
		f.claimOne(base.Add(2*lease), ds[0].ID)
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
		f, r := optional[webhook.Releaser](t, newStore, "Releaser")
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "manual", at(time.Second)))
		f.release(r, leaseOf(c))
		got := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StateFailed, got.State)
		assert.Equal(t, webhook.ReasonEndpointDisabled, got.LastError)
		require.NoError(t, f.s.EnableEndpoint(f.ctx, ep.ID, at(2*time.Second)))
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
