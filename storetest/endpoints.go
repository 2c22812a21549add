package storetest

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

func testEndpoints(t *testing.T, newStore newStoreFunc) {
	t.Run("create then get returns every field and a clean state", func(t *testing.T) {
		f := setup(t, newStore)
		want := f.createEndpoint()
		got := f.getEndpoint(want.ID)
		assertEndpointConfig(t, want, got)
		assert.False(t, got.Disabled)
		assert.Empty(t, got.DisabledReason)
		assert.True(t, got.DisabledAt.IsZero())
		assert.Zero(t, got.ConsecutiveFailures)
		assert.True(t, got.LastSuccessAt.IsZero())
		assert.True(t, got.LastFailureAt.IsZero())
		assert.Empty(t, got.LastFailureReason)
	})

	t.Run("empty events and headers round trip", func(t *testing.T) {
		f := setup(t, newStore)
		want := f.createEndpoint(func(ep *webhook.Endpoint) {
			ep.Events, ep.Headers, ep.MaxAttempts = nil, nil, 0
			ep.Method, ep.ContentType = http.MethodPut, webhook.ContentTypeForm
		})
		assertEndpointConfig(t, want, f.getEndpoint(want.ID))
	})

	t.Run("get unknown endpoint is ErrNotFound", func(t *testing.T) {
		f := setup(t, newStore)
		_, err := f.s.GetEndpoint(f.ctx, uuid.NewString())
		require.ErrorIs(t, err, webhook.ErrNotFound)
	})

	t.Run("list returns only the tenant's endpoints, oldest first", func(t *testing.T) {
		f := setup(t, newStore)
		// Created out of chronological order, so insertion order is not enough.
		second := f.createEndpoint(func(ep *webhook.Endpoint) { ep.CreatedAt = at(2 * time.Second) })
		first := f.createEndpoint(func(ep *webhook.Endpoint) { ep.CreatedAt = at(time.Second) })
		third := f.createEndpoint(func(ep *webhook.Endpoint) { ep.CreatedAt = at(3 * time.Second) })
		f.createEndpoint(func(ep *webhook.Endpoint) { ep.TenantID = "other-" + uuid.NewString() })

		got, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		require.Len(t, got, 3)
		for i, want := range []*webhook.Endpoint{first, second, third} {
			assertEndpointConfig(t, want, got[i])
		}

		none, err := f.s.ListEndpoints(f.ctx, "no-such-tenant")
		require.NoError(t, err)
		assert.Empty(t, none)
	})

	t.Run("empty tenant ID is a tenant of its own", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint(func(ep *webhook.Endpoint) { ep.TenantID = "" })
		f.createEndpoint()
		got, err := f.s.ListEndpoints(f.ctx, "")
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, ep.ID, got[0].ID)
	})

	t.Run("update replaces configuration and keeps tenant, counters, state and secrets", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		// Give the endpoint some state: a failed delivery and a disable.
		_, ds := f.enqueue(base, ep)
		f.fail(f.claimOne(base, ds[0].ID), at(time.Second), 0)
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "manual", at(2*time.Second)))
		before := f.getEndpoint(ep.ID)

		upd := ep.Clone()
		upd.Name = "staging"
		upd.URL = "https://other.example.org/x"
		upd.Events = []string{"vote.deleted"}
		upd.Method = http.MethodPatch
		upd.ContentType = webhook.ContentTypeForm
		upd.MaxAttempts = 7
		upd.Headers = http.Header{"X-New": {"1"}}
		upd.UpdatedAt = at(time.Hour)
		// Fields that are not configuration: the store must ignore them.
		upd.TenantID = "someone-else"
		upd.CreatedAt = at(-time.Hour)
		upd.Disabled = false
		upd.DisabledReason = ""
		upd.ConsecutiveFailures = 42
		upd.LastFailureReason = "forged"
		require.NoError(t, f.s.UpdateEndpoint(f.ctx, upd))

		got := f.getEndpoint(ep.ID)
		want := upd.Clone()
		want.TenantID, want.CreatedAt = ep.TenantID, ep.CreatedAt
		assertEndpointConfig(t, want, got)
		assert.True(t, got.Disabled, "Disabled")
		assert.Equal(t, "manual", got.DisabledReason)
		assertTime(t, before.DisabledAt, got.DisabledAt, "DisabledAt")
		assert.Equal(t, 1, got.ConsecutiveFailures)
		assert.Equal(t, before.LastFailureReason, got.LastFailureReason)
		assertTime(t, before.LastFailureAt, got.LastFailureAt, "LastFailureAt")

		secrets, err := f.s.EndpointSecrets(f.ctx, ep.ID, base)
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{firstSecret(ep)}, secrets)

		list, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		require.Len(t, list, 1, "the endpoint stays with its tenant")
	})

	t.Run("update unknown endpoint is ErrNotFound", func(t *testing.T) {
		f := setup(t, newStore)
		err := f.s.UpdateEndpoint(f.ctx, f.newEndpoint())
		require.ErrorIs(t, err, webhook.ErrNotFound)
	})

	t.Run("delete removes the endpoint, its secrets, deliveries and attempts", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		other := f.createEndpoint()
		ev, ds := f.enqueue(base, ep, other)
		c := f.claim(base, 10)
		require.Len(t, c, 2)
		for _, cl := range c {
			f.retry(cl, at(time.Second), at(time.Hour))
		}

		require.NoError(t, f.s.DeleteEndpoint(f.ctx, ep.ID))

		_, err := f.s.GetEndpoint(f.ctx, ep.ID)
		require.ErrorIs(t, err, webhook.ErrNotFound)
		_, err = f.s.EndpointSecrets(f.ctx, ep.ID, base)
		require.ErrorIs(t, err, webhook.ErrNotFound)
		_, err = f.s.GetDelivery(f.ctx, ds[0].ID)
		require.ErrorIs(t, err, webhook.ErrNotFound)
		_, err = f.s.ListAttempts(f.ctx, ds[0].ID)
		require.ErrorIs(t, err, webhook.ErrNotFound)
		page, _, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{EndpointID: ep.ID})
		require.NoError(t, err)
		assert.Empty(t, page)
		list, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, other.ID, list[0].ID)

		// The event and the other endpoint's delivery stay.
		stored, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, ev.Body, stored.Body)
		assert.Equal(t, webhook.StatePending, f.getDelivery(ds[1].ID).State)
		assert.Len(t, f.attempts(ds[1].ID), 1)
		// Nothing of the deleted endpoint is claimed any more.
		cs := f.claim(at(2*time.Hour), 10)
		assert.Equal(t, []string{ds[1].ID}, deliveryIDs(cs))

		require.ErrorIs(t, f.s.DeleteEndpoint(f.ctx, ep.ID), webhook.ErrNotFound, "deleting twice")
	})

	t.Run("methods on an unknown endpoint are ErrNotFound", func(t *testing.T) {
		f := setup(t, newStore)
		id := uuid.NewString()
		for name, call := range map[string]func() error{
			"DeleteEndpoint":  func() error { return f.s.DeleteEndpoint(f.ctx, id) },
			"DisableEndpoint": func() error { return f.s.DisableEndpoint(f.ctx, id, "x", base) },
			"EnableEndpoint":  func() error { return f.s.EnableEndpoint(f.ctx, id, base) },
			"RotateSecret": func() error {
				return f.s.RotateSecret(f.ctx, id, webhook.Secret{Value: "whsec_x", CreatedAt: base}, at(time.Hour))
			},
			"EndpointSecrets": func() error { _, err := f.s.EndpointSecrets(f.ctx, id, base); return err },
		} {
			assert.ErrorIs(t, call(), webhook.ErrNotFound, name)
		}
	})
}

func testTenantLimit(t *testing.T, newStore newStoreFunc) {
	t.Run("the endpoint past the limit is rejected and nothing is stored", func(t *testing.T) {
		f := setup(t, newStore)
		for i := 0; i < 3; i++ {
			require.NoError(t, f.s.CreateEndpoint(f.ctx, f.newEndpoint(), webhook.Secret{Value: "s", CreatedAt: base}, 3))
		}
		extra := f.newEndpoint()
		err := f.s.CreateEndpoint(f.ctx, extra, firstSecret(extra), 3)
		require.ErrorIs(t, err, webhook.ErrTooManyEndpoints)
		_, err = f.s.GetEndpoint(f.ctx, extra.ID)
		require.ErrorIs(t, err, webhook.ErrNotFound)
		_, err = f.s.EndpointSecrets(f.ctx, extra.ID, base)
		require.ErrorIs(t, err, webhook.ErrNotFound)
		list, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		assert.Len(t, list, 3)
	})

	t.Run("zero means no limit", func(t *testing.T) {
		f := setup(t, newStore)
		for i := 0; i < 12; i++ {
			f.createEndpoint()
		}
		list, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		assert.Len(t, list, 12)
	})

	t.Run("other tenants do not count and deleting frees a slot", func(t *testing.T) {
		f := setup(t, newStore)
		for i := 0; i < 2; i++ {
			ep := f.newEndpoint(func(ep *webhook.Endpoint) { ep.TenantID = "other-" + f.tenant })
			require.NoError(t, f.s.CreateEndpoint(f.ctx, ep, firstSecret(ep), 2))
		}
		a, b := f.newEndpoint(), f.newEndpoint()
		require.NoError(t, f.s.CreateEndpoint(f.ctx, a, firstSecret(a), 2))
		require.NoError(t, f.s.CreateEndpoint(f.ctx, b, firstSecret(b), 2))
		c := f.newEndpoint()
		require.ErrorIs(t, f.s.CreateEndpoint(f.ctx, c, firstSecret(c), 2), webhook.ErrTooManyEndpoints)
		require.NoError(t, f.s.DeleteEndpoint(f.ctx, a.ID))
		require.NoError(t, f.s.CreateEndpoint(f.ctx, c, firstSecret(c), 2))
	})

	t.Run("disabled endpoints count", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.newEndpoint()
		require.NoError(t, f.s.CreateEndpoint(f.ctx, ep, firstSecret(ep), 1))
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "manual", base))
		next := f.newEndpoint()
		require.ErrorIs(t, f.s.CreateEndpoint(f.ctx, next, firstSecret(next), 1), webhook.ErrTooManyEndpoints)
	})

	t.Run("concurrent creates never exceed the limit", func(t *testing.T) {
		f := setup(t, newStore)
		const limit, goroutines = 5, 32
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			created, tooMny int
			others          []error
		)
		start := make(chan struct{})
		for i := 0; i < goroutines; i++ {
			ep := f.newEndpoint(func(ep *webhook.Endpoint) { ep.CreatedAt = at(time.Duration(i) * time.Millisecond) })
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := f.s.CreateEndpoint(f.ctx, ep, firstSecret(ep), limit)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					created++
				case errors.Is(err, webhook.ErrTooManyEndpoints):
					tooMny++
				default:
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		require.Empty(t, others, "errors other than ErrTooManyEndpoints")
		assert.Equal(t, limit, created, "created")
		assert.Equal(t, goroutines-limit, tooMny, "rejected")
		list, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		assert.Len(t, list, limit)
	})
}

func testSecrets(t *testing.T, newStore newStoreFunc) {
	t.Run("the first secret is returned by EndpointSecrets and Claim", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		got, err := f.s.EndpointSecrets(f.ctx, ep.ID, base)
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{firstSecret(ep)}, got)
		f.enqueue(base, ep)
		c := f.claim(base, 1)
		require.Len(t, c, 1)
		assertSecrets(t, []webhook.Secret{firstSecret(ep)}, c[0].Secrets)
	})

	t.Run("rotation keeps old secrets until min(own expiry, new expiry), newest first", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		s1 := firstSecret(ep)
		s2 := webhook.Secret{Value: "whsec_second", CreatedAt: at(time.Hour)}
		s3 := webhook.Secret{Value: "whsec_third", CreatedAt: at(2 * time.Hour)}
		require.NoError(t, f.s.RotateSecret(f.ctx, ep.ID, s2, at(25*time.Hour)))
		// The second rotation's grace ends earlier: both old secrets end then.
		require.NoError(t, f.s.RotateSecret(f.ctx, ep.ID, s3, at(3*time.Hour)))
		s1.ExpiresAt, s2.ExpiresAt = at(3*time.Hour), at(3*time.Hour)

		got, err := f.s.EndpointSecrets(f.ctx, ep.ID, at(2*time.Hour+time.Minute))
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{s3, s2, s1}, got)

		// A third rotation with a later grace does not extend the others.
		s4 := webhook.Secret{Value: "whsec_fourth", CreatedAt: at(2*time.Hour + 30*time.Minute)}
		require.NoError(t, f.s.RotateSecret(f.ctx, ep.ID, s4, at(48*time.Hour)))
		s3.ExpiresAt = at(48 * time.Hour)
		got, err = f.s.EndpointSecrets(f.ctx, ep.ID, at(2*time.Hour+31*time.Minute))
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{s4, s3, s2, s1}, got)
	})

	t.Run("expired secrets are dropped at claim time", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		s1 := firstSecret(ep)
		s2 := webhook.Secret{Value: "whsec_second", CreatedAt: at(time.Hour)}
		require.NoError(t, f.s.RotateSecret(f.ctx, ep.ID, s2, at(2*time.Hour)))
		s1.ExpiresAt = at(2 * time.Hour)

		_, ds := f.enqueue(at(time.Hour), ep, ep)
		during := f.claim(at(90*time.Minute), 1)
		require.Len(t, during, 1)
		assertSecrets(t, []webhook.Secret{s2, s1}, during[0].Secrets)
		f.succeed(during[0], at(91*time.Minute))

		after := f.claim(at(2*time.Hour), 1)
		require.Len(t, after, 1)
		assert.NotEqual(t, during[0].Delivery.ID, after[0].Delivery.ID)
		assertSecrets(t, []webhook.Secret{s2}, after[0].Secrets)
		got, err := f.s.EndpointSecrets(f.ctx, ep.ID, at(2*time.Hour))
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{s2}, got)
		assert.ElementsMatch(t, ids(ds), []string{during[0].Delivery.ID, after[0].Delivery.ID})
	})
}

func testCopies(t *testing.T, newStore newStoreFunc) {
	t.Run("changing the endpoint passed to CreateEndpoint or UpdateEndpoint changes nothing stored", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.newEndpoint()
		want := ep.Clone()
		require.NoError(t, f.s.CreateEndpoint(f.ctx, ep, firstSecret(ep), 0))
		ep.Name, ep.Events[0], ep.Headers["X-Team"][0] = "mutated", "mutated.event", "mutated"
		assertEndpointConfig(t, want, f.getEndpoint(want.ID))

		upd := want.Clone()
		upd.Name = "updated"
		require.NoError(t, f.s.UpdateEndpoint(f.ctx, upd))
		upd.Events[0], upd.Headers["X-Team"][0] = "mutated.event", "mutated"
		want.Name = "updated"
		assertEndpointConfig(t, want, f.getEndpoint(want.ID))
	})

	t.Run("endpoints returned are copies", func(t *testing.T) {
		f := setup(t, newStore)
		want := f.createEndpoint()
		mutate := func(ep *webhook.Endpoint) {
			ep.Name, ep.Disabled, ep.ConsecutiveFailures = "mutated", true, 99
			ep.Events[0] = "mutated.event"
			ep.Headers["X-Team"][0] = "mutated"
			ep.Headers.Set("X-Added", "1")
		}
		mutate(f.getEndpoint(want.ID))
		list, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		require.Len(t, list, 1)
		mutate(list[0])
		f.enqueue(base, want, want)
		cs := f.claim(base, 2)
		require.Len(t, cs, 2)
		mutate(cs[0].Endpoint)
		after := f.succeed(cs[1], at(time.Second))
		mutate(after)

		got := f.getEndpoint(want.ID)
		assertEndpointConfig(t, want, got)
		assert.False(t, got.Disabled)
		assert.Zero(t, got.ConsecutiveFailures)
	})

	t.Run("changing the event or deliveries passed to Enqueue changes nothing stored", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev := f.newEvent(base)
		body := append([]byte(nil), ev.Body...)
		d := newDelivery(ev, ep, base)
		want := *d
		require.NoError(t, f.s.Enqueue(f.ctx, ev, []*webhook.Delivery{d}))
		ev.Body[0], ev.Type = 'X', "mutated.type"
		d.State, d.NextAttemptAt, d.EndpointID = webhook.StateFailed, at(time.Hour), "mutated"

		stored, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, body, stored.Body)
		assert.Equal(t, "post.created", stored.Type)
		assertDelivery(t, &want, f.getDelivery(d.ID))
	})

	t.Run("events, deliveries, attempts, secrets and claim bodies returned are copies", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev, ds := f.enqueue(base, ep)

		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		got.Body[0] = 'X'
		got.Type = "mutated.type"
		d := f.getDelivery(ds[0].ID)
		d.State, d.Attempts = webhook.StateSucceeded, 9
		secrets, err := f.s.EndpointSecrets(f.ctx, ep.ID, base)
		require.NoError(t, err)
		secrets[0].Value = "mutated"

		c := f.claimOne(base, ds[0].ID)
		assert.Equal(t, ev.Body, c.Body)
		c.Secrets[0].Value = "mutated"
		c.Delivery.Attempts = 7
		comp := completion(c, webhook.OutcomeRetry, at(time.Second))
		comp.RetryAt = at(time.Minute)
		f.complete(comp)
		comp.Attempt.StatusCode = 599
		as := f.attempts(ds[0].ID)
		require.Len(t, as, 1)
		assert.Equal(t, 500, as[0].StatusCode)
		as[0].StatusCode = 418

		again, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, ev.Body, again.Body)
		assert.Equal(t, ev.Type, again.Type)
		stored := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StatePending, stored.State)
		assert.Equal(t, 1, stored.Attempts)
		assert.Equal(t, 500, f.attempts(ds[0].ID)[0].StatusCode)
		secrets, err = f.s.EndpointSecrets(f.ctx, ep.ID, base)
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{firstSecret(ep)}, secrets)
		c2 := f.claimOne(at(time.Minute), ds[0].ID)
		assert.Equal(t, 1, c2.Delivery.Attempts)
		assertSecrets(t, []webhook.Secret{firstSecret(ep)}, c2.Secrets)
		assert.Equal(t, ev.Body, c2.Body)
	})

	t.Run("deliveries listed are copies", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		page, _, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{})
		require.NoError(t, err)
		require.Len(t, page, 1)
		page[0].State = webhook.StateFailed
		page[0].EndpointID = "mutated"
		assertDelivery(t, ds[0], f.getDelivery(ds[0].ID))
	})
}
