package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

func testEnqueue(t *testing.T, newStore newStoreFunc) {
	t.Run("event and deliveries round trip", func(t *testing.T) {
		f := setup(t, newStore)
		a, b := f.createEndpoint(), f.createEndpoint()
		ev, ds := f.enqueueDue(base, at(time.Minute), a, b)

		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, ev.ID, got.ID)
		assert.Equal(t, ev.Type, got.Type)
		assert.Equal(t, ev.TenantID, got.TenantID)
		assertTime(t, ev.CreatedAt, got.CreatedAt, "CreatedAt")
		assert.Equal(t, ev.Body, got.Body)
		for _, d := range ds {
			assertDelivery(t, d, f.getDelivery(d.ID))
		}
	})

	t.Run("body bytes are kept exactly", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev := f.newEvent(base)
		// Whitespace, key order, escapes and duplicate keys that a JSON
		// column would normalise away; the signature covers these bytes.
		ev.Body = []byte("{\"z\":1,  \"a\":\"\\u00e9\\u2028\",\n\t\"a\":[1.0e0, -0],\"s\":\"</script>\"}\n")
		want := append([]byte(nil), ev.Body...)
		d := newDelivery(ev, ep, base)
		require.NoError(t, f.s.Enqueue(f.ctx, ev, []*webhook.Delivery{d}))
		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got.Body)
		c := f.claimOne(base, d.ID)
		assert.Equal(t, want, c.Body)
	})

	t.Run("metadata round trips and reaches every claim", func(t *testing.T) {
		f := setup(t, newStore)
		a, b := f.createEndpoint(), f.createEndpoint()
		ev := f.newEvent(base)
		md := map[string]string{
			"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			"tracestate":  "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
			"x-note":      "caf\u00e9 \"quoted\" é",
		}
		ev.Metadata = map[string]string{}
		for k, v := range md {
			ev.Metadata[k] = v
		}
		ds := []*webhook.Delivery{newDelivery(ev, a, base), newDelivery(ev, b, base)}
		require.NoError(t, f.s.Enqueue(f.ctx, ev, ds))
		ev.Metadata["traceparent"] = "changed by the caller after Enqueue"
		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, md, got.Metadata, "GetEvent")
		cs := f.claim(base, 10)
		require.Len(t, cs, 2)
		for _, c := range cs {
			assert.Equal(t, md, c.Metadata, "Claim of %s", c.Delivery.ID)
		}

		plain, pds := f.enqueue(at(time.Second), a)
		got, err = f.s.GetEvent(f.ctx, plain.ID)
		require.NoError(t, err)
		assert.Empty(t, got.Metadata, "an event without metadata has none")
		assert.Empty(t, f.claimOne(at(time.Second), pds[0].ID).Metadata)
	})

	t.Run("duplicate event ID writes nothing", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev, ds := f.enqueue(base, ep)
		dup := *ev
		dup.Body = []byte(`{"other":true}`)
		dup.Type = "post.deleted"
		extra := newDelivery(&dup, ep, base)
		err := f.s.Enqueue(f.ctx, &dup, []*webhook.Delivery{extra})
		require.ErrorIs(t, err, webhook.ErrDuplicateEvent)

		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, ev.Body, got.Body)
		assert.Equal(t, ev.Type, got.Type)
		_, err = f.s.GetDelivery(f.ctx, extra.ID)
		require.ErrorIs(t, err, webhook.ErrNotFound)
		page, _, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{EventID: ev.ID})
		require.NoError(t, err)
		assert.Equal(t, ids(ds), ids(page))
		assert.Equal(t, ids(ds), deliveryIDs(f.claim(base, 10)))
	})

	t.Run("an event with zero deliveries is stored and still deduplicates", func(t *testing.T) {
		f := setup(t, newStore)
		ev := f.newEvent(base)
		require.NoError(t, f.s.Enqueue(f.ctx, ev, nil))
		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, ev.Body, got.Body)
		assert.Empty(t, f.claim(at(time.Hour), 10))
		require.ErrorIs(t, f.s.Enqueue(f.ctx, ev, nil), webhook.ErrDuplicateEvent)
	})

	t.Run("unknown event or delivery is ErrNotFound", func(t *testing.T) {
		f := setup(t, newStore)
		_, err := f.s.GetEvent(f.ctx, uuid.NewString())
		require.ErrorIs(t, err, webhook.ErrNotFound)
		_, err = f.s.GetDelivery(f.ctx, uuid.NewString())
		require.ErrorIs(t, err, webhook.ErrNotFound)
	})
}

func testClaim(t *testing.T, newStore newStoreFunc) {
	t.Run("claims due deliveries oldest due first", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		// Enqueued in an order unrelated to their due times.
		_, d3 := f.enqueueDue(base, at(3*time.Second), ep)
		_, d1 := f.enqueueDue(at(time.Second), at(time.Second), ep)
		_, d2 := f.enqueueDue(at(-time.Hour), at(2*time.Second), ep)
		want := []string{d1[0].ID, d2[0].ID, d3[0].ID}

		var got []string
		for i := 0; i < 3; i++ {
			cs := f.claim(at(time.Minute), 1)
			require.Len(t, cs, 1)
			got = append(got, cs[0].Delivery.ID)
		}
		assert.Equal(t, want, got)
		assert.Empty(t, f.claim(at(time.Minute), 1))
	})

	t.Run("one claim returns several deliveries oldest due first and honours Limit", func(t *testing.T) {
		f := setup(t, newStore)
		a, b := f.createEndpoint(), f.createEndpoint()
		_, late := f.enqueueDue(base, at(4*time.Second), a)
		_, early := f.enqueueDue(base, at(time.Second), b)
		_, mid := f.enqueueDue(base, at(2*time.Second), a)
		cs := f.claim(at(time.Minute), 2)
		assert.Equal(t, []string{early[0].ID, mid[0].ID}, deliveryIDs(cs))
		cs = f.claim(at(time.Minute), 2)
		assert.Equal(t, []string{late[0].ID}, deliveryIDs(cs))
	})

	t.Run("a claim of many deliveries of plain endpoints returns them in due order", func(t *testing.T) {
		f := setup(t, newStore)
		eps := []*webhook.Endpoint{f.createEndpoint(), f.createEndpoint(), f.createEndpoint()}
		// Due times in an order unrelated to the endpoints' and to the
		// order of enqueueing: 31 is prime to 40.
		type due struct {
			id string
			at time.Time
		}
		var all []due
		for i := 0; i < 40; i++ {
			when := at(time.Duration(i*31%40+1) * time.Second)
			_, ds := f.enqueueDue(base, when, eps[i%3])
			all = append(all, due{ds[0].ID, when})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
		var want []string
		for _, d := range all {
			want = append(want, d.id)
		}
		assert.Equal(t, want, deliveryIDs(f.claim(at(time.Minute), 40)))
	})

	t.Run("deliveries not yet due are not claimed", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueueDue(base, at(time.Hour), ep)
		assert.Empty(t, f.claim(base, 10))
		assert.Empty(t, f.claim(at(time.Hour-time.Second), 10))
		f.claimOne(at(time.Hour), ds[0].ID)
	})

	t.Run("a claim carries the delivery, endpoint, secrets, body and a token", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev, ds := f.enqueue(base, ep, ep)
		cs := f.claim(base, 10)
		require.Len(t, cs, 2)
		assert.ElementsMatch(t, ids(ds), deliveryIDs(cs))
		for _, c := range cs {
			want := ds[0]
			if c.Delivery.ID == ds[1].ID {
				want = ds[1]
			}
			assertDelivery(t, want, c.Delivery)
			assertEndpointConfig(t, ep, c.Endpoint)
			assertSecrets(t, []webhook.Secret{firstSecret(ep)}, c.Secrets)
			assert.Equal(t, ev.Body, c.Body)
			assert.NotEmpty(t, c.Token)
		}
		assert.NotEqual(t, cs[0].Token, cs[1].Token, "every lease has its own token")
	})

	t.Run("MaxPerEndpoint caps each endpoint, counting InFlight", func(t *testing.T) {
		f := setup(t, newStore)
		a, b, c := f.createEndpoint(), f.createEndpoint(), f.createEndpoint()
		for i := 0; i < 5; i++ {
			f.enqueue(at(time.Duration(i)*time.Second), a, b, c)
		}
		cs := f.claimP(webhook.ClaimParams{
			Now: at(time.Minute), Lease: lease, Limit: 100,
			MaxPerEndpoint: 2,
			InFlight:       map[string]int{a.ID: 1, c.ID: 2},
		})
		perEndpoint := map[string]int{}
		for _, cl := range cs {
			perEndpoint[cl.Endpoint.ID]++
		}
		assert.Equal(t, map[string]int{a.ID: 1, b.ID: 2}, perEndpoint)

		// The skipped deliveries stay pending and are claimable without the cap.
		rest := f.claim(at(time.Minute), 100)
		assert.Len(t, rest, 15-3)
		for _, cl := range append(cs, rest...) {
			assert.Equal(t, webhook.StatePending, f.getDelivery(cl.Delivery.ID).State)
		}
	})

	t.Run("an endpoint at its cap does not block the others", func(t *testing.T) {
		f := setup(t, newStore)
		busy, idle := f.createEndpoint(), f.createEndpoint()
		// The capped endpoint holds the oldest due deliveries.
		for i := 0; i < 20; i++ {
			f.enqueue(at(time.Duration(i)*time.Second), busy)
		}
		_, later := f.enqueue(at(time.Hour), idle)
		_, latest := f.enqueue(at(2*time.Hour), idle)
		cs := f.claimP(webhook.ClaimParams{
			Now: at(3 * time.Hour), Lease: lease, Limit: 2,
			MaxPerEndpoint: 3, InFlight: map[string]int{busy.ID: 3},
		})
		assert.Equal(t, []string{later[0].ID, latest[0].ID}, deliveryIDs(cs))
	})

	t.Run("Limit counts per claim and the cap applies within one claim", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		for i := 0; i < 5; i++ {
			f.enqueue(at(time.Duration(i)*time.Second), ep)
		}
		cs := f.claimP(webhook.ClaimParams{Now: at(time.Minute), Lease: lease, Limit: 10, MaxPerEndpoint: 2})
		assert.Len(t, cs, 2)
		assert.Len(t, f.claim(at(time.Minute), 1), 1)
	})
}

func testLease(t *testing.T, newStore newStoreFunc) {
	t.Run("a claimed delivery is not claimable again until its lease expires", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		first := f.claimOne(base, ds[0].ID)
		assert.Empty(t, f.claim(base, 10))
		assert.Empty(t, f.claim(at(lease-time.Second), 10))
		assert.Equal(t, webhook.StatePending, f.getDelivery(ds[0].ID).State)

		second := f.claimOne(at(lease+time.Second), ds[0].ID)
		assert.NotEqual(t, first.Token, second.Token)
		assert.Zero(t, second.Delivery.Attempts)
	})

	t.Run("after expiry the old token's Complete is ErrLeaseLost and records nothing", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		first := f.claimOne(base, ds[0].ID)
		second := f.claimOne(at(2*lease), ds[0].ID)

		for _, outcome := range []webhook.Outcome{webhook.OutcomeSuccess, webhook.OutcomeRetry, webhook.OutcomeFail} {
			comp := completion(first, outcome, at(2*lease+time.Second))
			comp.RetryAt = at(time.Hour)
			comp.DisableReason = "gone"
			_, disabled, err := f.s.Complete(f.ctx, comp)
			require.ErrorIs(t, err, webhook.ErrLeaseLost, "outcome %d", outcome)
			assert.False(t, disabled)
		}
		assert.Empty(t, f.attempts(ds[0].ID))
		d := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StatePending, d.State)
		assert.Zero(t, d.Attempts)
		got := f.getEndpoint(ep.ID)
		assert.False(t, got.Disabled)
		assert.Zero(t, got.ConsecutiveFailures)
		assert.True(t, got.LastFailureAt.IsZero())
		assert.True(t, got.LastSuccessAt.IsZero())

		// The current holder still completes.
		f.succeed(second, at(2*lease+2*time.Second))
		assert.Equal(t, webhook.StateSucceeded, f.getDelivery(ds[0].ID).State)
		assert.Len(t, f.attempts(ds[0].ID), 1)
	})

	t.Run("an expired lease nobody claimed again still completes", func(t *testing.T) {
		// ErrLeaseLost is for a lease that expired and was claimed again or
		// ended meanwhile; a slow worker alone loses nothing.
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		f.succeed(c, at(3*lease))
		assert.Equal(t, webhook.StateSucceeded, f.getDelivery(ds[0].ID).State)
		assert.Empty(t, f.claim(at(4*lease), 10))
	})

	t.Run("a token works once", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		f.retry(c, at(time.Second), at(2*time.Second))
		_, _, err := f.s.Complete(f.ctx, completion(c, webhook.OutcomeSuccess, at(3*time.Second)))
		require.ErrorIs(t, err, webhook.ErrLeaseLost)
		assert.Len(t, f.attempts(ds[0].ID), 1)
		assert.Equal(t, webhook.StatePending, f.getDelivery(ds[0].ID).State)
	})

	t.Run("a wrong token is ErrLeaseLost and records nothing", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		forged := *c
		forged.Token = uuid.NewString()
		_, _, err := f.s.Complete(f.ctx, completion(&forged, webhook.OutcomeFail, at(time.Second)))
		require.ErrorIs(t, err, webhook.ErrLeaseLost)
		assert.Empty(t, f.attempts(ds[0].ID))
		assert.Zero(t, f.getEndpoint(ep.ID).ConsecutiveFailures)
		f.succeed(c, at(2*time.Second))
	})

	t.Run("completing a delivery deleted with its endpoint is ErrLeaseLost", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		require.NoError(t, f.s.DeleteEndpoint(f.ctx, ep.ID))
		_, _, err := f.s.Complete(f.ctx, completion(c, webhook.OutcomeSuccess, at(time.Second)))
		require.ErrorIs(t, err, webhook.ErrLeaseLost)
	})
}

func testComplete(t *testing.T, newStore newStoreFunc) {
	t.Run("success ends the delivery and resets the endpoint's failures", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		var ds []*webhook.Delivery
		for i := 0; i < 3; i++ {
			_, d := f.enqueue(at(time.Duration(i)*time.Millisecond), ep)
			ds = append(ds, d...)
		}
		for i := 0; i < 2; i++ {
			ep, disabled := f.fail(f.claimOne(at(time.Duration(i)*time.Millisecond), ds[i].ID), at(time.Second), 5)
			assert.False(t, disabled)
			assert.Equal(t, i+1, ep.ConsecutiveFailures)
		}
		c := f.claimOne(at(2*time.Millisecond), ds[2].ID)
		after := f.succeed(c, at(time.Minute))
		assert.Zero(t, after.ConsecutiveFailures)
		assertTime(t, at(time.Minute), after.LastSuccessAt, "LastSuccessAt")
		assertTime(t, at(time.Second), after.LastFailureAt, "LastFailureAt stays")
		assert.Equal(t, "HTTP 500 (attempt 1)", after.LastFailureReason)

		stored := f.getEndpoint(ep.ID)
		assert.Zero(t, stored.ConsecutiveFailures)
		assertTime(t, at(time.Minute), stored.LastSuccessAt, "stored LastSuccessAt")
		d := f.getDelivery(ds[2].ID)
		assert.Equal(t, webhook.StateSucceeded, d.State)
		assert.Equal(t, 1, d.Attempts)
		assert.Empty(t, f.claim(at(time.Hour), 10), "a succeeded delivery is not claimed")
	})

	t.Run("retry keeps the delivery pending, due at RetryAt and unleased", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		after := f.retry(c, at(time.Second), at(10*time.Second))
		assert.Zero(t, after.ConsecutiveFailures, "a retry is not a failed delivery")
		assertTime(t, at(time.Second), after.LastFailureAt, "LastFailureAt")
		assert.Equal(t, "HTTP 500 (attempt 1)", after.LastFailureReason)
		assert.False(t, after.Disabled)

		d := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StatePending, d.State)
		assert.Equal(t, 1, d.Attempts)
		assertTime(t, at(10*time.Second), d.NextAttemptAt, "NextAttemptAt")
		assert.Empty(t, f.claim(at(9*time.Second), 10), "not due before RetryAt")
		// Due at RetryAt although the lease taken at base would last longer.
		again := f.claimOne(at(10*time.Second), ds[0].ID)
		assert.Equal(t, 1, again.Delivery.Attempts, "Attempts counts the attempts before this one")
		f.retry(again, at(11*time.Second), at(20*time.Second))
		third := f.claimOne(at(20*time.Second), ds[0].ID)
		assert.Equal(t, 2, third.Delivery.Attempts)
		f.succeed(third, at(21*time.Second))
		assert.Equal(t, 3, f.getDelivery(ds[0].ID).Attempts)
	})

	t.Run("fail ends the delivery and counts a failed delivery", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		after, disabled := f.fail(c, at(time.Second), 0)
		assert.False(t, disabled)
		assert.Equal(t, 1, after.ConsecutiveFailures)
		assertTime(t, at(time.Second), after.LastFailureAt, "LastFailureAt")
		assert.Equal(t, "HTTP 500 (attempt 1)", after.LastFailureReason)
		d := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StateFailed, d.State)
		assert.Equal(t, 1, d.Attempts)
		assert.Equal(t, "HTTP 500 (attempt 1)", d.LastError)
		assert.Empty(t, f.claim(at(time.Hour), 10), "a failed delivery is not claimed")
		stored := f.getEndpoint(ep.ID)
		assert.Equal(t, 1, stored.ConsecutiveFailures)
		assert.Equal(t, "HTTP 500 (attempt 1)", stored.LastFailureReason)
	})

	t.Run("the attempt is recorded with every field", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		comp := completion(c, webhook.OutcomeSuccess, at(time.Second))
		comp.Attempt.ResponseBody = "{\"ok\":true}\n"
		f.complete(comp)
		as := f.attempts(ds[0].ID)
		require.Len(t, as, 1)
		want, got := comp.Attempt, as[0]
		assert.Equal(t, want.ID, got.ID)
		assert.Equal(t, want.DeliveryID, got.DeliveryID)
		assert.Equal(t, want.EventID, got.EventID)
		assert.Equal(t, want.EndpointID, got.EndpointID)
		assert.Equal(t, 1, got.Number)
		assertTime(t, want.StartedAt, got.StartedAt, "StartedAt")
		assert.Equal(t, want.Duration, got.Duration)
		assert.Equal(t, 200, got.StatusCode)
		assert.Equal(t, want.ResponseBody, got.ResponseBody)
		assert.Empty(t, got.Error)
		assert.True(t, got.Success)
	})
}
