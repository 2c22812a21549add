package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// ordered makes an endpoint Ordered.
func ordered(ep *webhook.Endpoint) { ep.Ordered = true }

// setOrdered stores ep's configuration with Ordered = on.
func (f *fixture) setOrdered(ep *webhook.Endpoint, on bool, now time.Time) {
	f.t.Helper()
	upd := f.getEndpoint(ep.ID)
	upd.Ordered = on
	upd.UpdatedAt = now
	require.NoError(f.t, f.s.UpdateEndpoint(f.ctx, upd))
	require.Equal(f.t, on, f.getEndpoint(ep.ID).Ordered, "Ordered after UpdateEndpoint")
}

// publish enqueues n events for ep, all created and due at created (the
// same time: publish order is the order of Enqueue, not CreatedAt), and
// returns the deliveries in publish order.
func (f *fixture) publish(n int, created time.Time, ep *webhook.Endpoint) []*webhook.Delivery {
	var out []*webhook.Delivery
	for i := 0; i < n; i++ {
		_, ds := f.enqueue(created, ep)
		out = append(out, ds...)
	}
	return out
}

// Ordered tests webhook.OrderedStore: an Ordered endpoint's deliveries are
// claimed one at a time in publish order, a head waiting for its retry
// holds back the rest, concurrent Claims never take two of one endpoint,
// other endpoints are unaffected, and BlockedBy says what a delivery waits
// for.
func (s Suite) Ordered(t *testing.T) {
	newStore := s.newStore()
	t.Run("Ordered round trips and is configuration", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint(ordered)
		assert.True(t, f.getEndpoint(ep.ID).Ordered)
		f.setOrdered(ep, false, at(time.Second))
		f.setOrdered(ep, true, at(2*time.Second))
		plain := f.createEndpoint()
		assert.False(t, f.getEndpoint(plain.ID).Ordered)
	})

	t.Run("one at a time in publish order; a retrying head holds back the rest", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint(ordered)
		ds := f.publish(3, base, ep)
		head := f.claimOne(at(time.Second), ds[0].ID)
		assert.Empty(t, f.claim(at(time.Second), 10), "the head is in flight")
		f.retry(head, at(2*time.Second), at(time.Hour))
		assert.Empty(t, f.claim(at(time.Minute), 10), "the head waits for its retry; the 2nd must not overtake it")
		assert.Equal(t, ds[0].ID, f.getDelivery(ds[1].ID).BlockedBy)
		assert.Equal(t, ds[0].ID, f.getDelivery(ds[2].ID).BlockedBy)
		assert.Empty(t, f.getDelivery(ds[0].ID).BlockedBy, "the head waits for nothing but its time")
		list, _, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{EndpointID: ep.ID})
		require.NoError(t, err)
		blocked := map[string]string{}
		for _, d := range list {
			blocked[d.ID] = d.BlockedBy
		}
		assert.Equal(t, map[string]string{ds[0].ID: "", ds[1].ID: ds[0].ID, ds[2].ID: ds[0].ID}, blocked, "ListDeliveries says why")

		head = f.claimOne(at(time.Hour), ds[0].ID)
		f.succeed(head, at(time.Hour))
		assert.Empty(t, f.getDelivery(ds[1].ID).BlockedBy)
		assert.Equal(t, ds[1].ID, f.getDelivery(ds[2].ID).BlockedBy)
		second := f.claimOne(at(time.Hour), ds[1].ID)
		f.fail(second, at(time.Hour), 0) // failed for good: the next goes
		f.claimOne(at(time.Hour), ds[2].ID)
		assert.Empty(t, f.claim(at(time.Hour), 10), "the last is in flight")
	})

	t.Run("publish order, not due order", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint(ordered)
		_, first := f.enqueueDue(base, at(time.Hour), ep)
		_, second := f.enqueueDue(base, base, ep)
		assert.Empty(t, f.claim(at(time.Minute), 10), "the 2nd is due but the 1st is not")
		assert.Equal(t, first[0].ID, f.getDelivery(second[0].ID).BlockedBy)
		f.claimOne(at(time.Hour), first[0].ID)
	})

	t.Run("an expired lease gives the head again, not the next", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint(ordered)
		ds := f.publish(2, base, ep)
		f.claimOne(base, ds[0].ID) // the worker dies
		assert.Empty(t, f.claim(base.Add(lease/2), 10))
		c := f.claimOne(base.Add(2*lease), ds[0].ID)
		f.succeed(c, base.Add(2*lease))
		f.claimOne(base.Add(2*lease), ds[1].ID)
	})

	t.Run("a requeued earlier delivery waits for the one in flight, then goes first", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint(ordered)
		ds := f.publish(3, base, ep)
		c := f.claimOne(base, ds[0].ID)
		f.fail(c, base, 0)
		inFlight := f.claimOne(base, ds[1].ID)
		n, err := f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: ds[0].ID, Now: at(time.Second)})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		assert.Empty(t, f.claim(at(time.Second), 10), "one in flight at a time")
		assert.Equal(t, ds[1].ID, f.getDelivery(ds[0].ID).BlockedBy)
		f.succeed(inFlight, at(2*time.Second))
		c = f.claimOne(at(2*time.Second), ds[0].ID)
		f.succeed(c, at(2*time.Second))
		f.claimOne(at(2*time.Second), ds[2].ID)
	})

	t.Run("disabling ends the head and the rest", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint(ordered)
		ds := f.publish(2, base, ep)
		c := f.claimOne(base, ds[0].ID)
		comp := completion(c, webhook.OutcomeFail, base)
		comp.DisableReason = "410 Gone"
		_, disabled := f.complete(comp)
		assert.True(t, disabled)
		assert.Equal(t, webhook.StateFailed, f.getDelivery(ds[1].ID).State)
		assert.Empty(t, f.getDelivery(ds[1].ID).BlockedBy)
	})

	t.Run("switching Ordered on with a backlog orders it from then on", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ds := f.publish(3, base, ep)
		f.setOrdered(ep, true, base)
		cs := f.claim(at(time.Second), 10)
		assert.Equal(t, []string{ds[0].ID}, deliveryIDs(cs))
		f.setOrdered(ep, false, at(2*time.Second))
		cs = f.claim(at(2*time.Second), 10)
		assert.Equal(t, sorted([]string{ds[1].ID, ds[2].ID}), sorted(deliveryIDs(cs)), "unordered again: all go")
	})

	t.Run("other endpoints are neither affected nor held back", func(t *testing.T) {
		f := setup(t, newStore)
		ord := f.createEndpoint(ordered)
		plain := f.createEndpoint()
		held := f.publish(30, base, ord) // due first
		free := f.publish(3, at(time.Second), plain)
		cs := f.claim(at(time.Minute), 3)
		require.Len(t, cs, 3, "claimed behind 29 waiting deliveries of an ordered endpoint")
		got := deliveryIDs(cs)
		cs = f.claim(at(time.Minute), 10)
		require.Len(t, cs, 1)
		got = append(got, deliveryIDs(cs)...)
		assert.Equal(t, sorted([]string{held[0].ID, free[0].ID, free[1].ID, free[2].ID}), sorted(got))
		for _, d := range free {
			assert.Empty(t, f.getDelivery(d.ID).BlockedBy)
		}
	})

	t.Run("an ordered endpoint's due head is not passed over for later ones of plain endpoints", func(t *testing.T) {
		f := setup(t, newStore)
		f.oldestFirstBesidePlain(f.createEndpoint(ordered))
	})

	t.Run("concurrent Claims never hold two of one ordered endpoint", func(t *testing.T) {
		f := setup(t, newStore)
		const endpoints, each, claimers = 4, 12, 8
		var eps []*webhook.Endpoint
		want := map[string][]string{}
		for i := 0; i < endpoints; i++ {
			eps = append(eps, f.createEndpoint(ordered))
		}
		for i := 0; i < each; i++ {
			for _, ep := range eps {
				_, ds := f.enqueue(base, ep)
				want[ep.ID] = append(want[ep.ID], ds[0].ID)
			}
		}
		var (
			mu       sync.Mutex
			inFlight = map[string]int{}
			got      = map[string][]string{}
			done     int
			wg       sync.WaitGroup
		)
		deadline := time.Now().Add(30 * time.Second)
		for g := 0; g < claimers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					mu.Lock()
					finished := done == endpoints*each
					mu.Unlock()
					if finished {
						return
					}
					cs, err := f.s.Claim(f.ctx, webhook.ClaimParams{Now: at(time.Second), Lease: time.Hour, Limit: 3})
					if !assert.NoError(t, err) {
						return
					}
					mu.Lock()
					for _, c := range cs {
						ep := c.Delivery.EndpointID
						inFlight[ep]++
						assert.LessOrEqual(t, inFlight[ep], 1, "two deliveries of one ordered endpoint in flight")
						got[ep] = append(got[ep], c.Delivery.ID)
					}
					mu.Unlock()
					for _, c := range cs {
						mu.Lock()
						inFlight[c.Delivery.EndpointID]--
						mu.Unlock()
						_, _, err := f.s.Complete(f.ctx, completion(c, webhook.OutcomeSuccess, at(time.Second)))
						assert.NoError(t, err)
						mu.Lock()
						done++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, want, got, "every delivery once, in publish order")
	})
}
