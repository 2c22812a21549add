package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// createWithoutSecret stores a new endpoint (see newEndpoint) with the zero
// Secret, as the Dispatcher creates Unsigned and TenantSecret endpoints.
func (f *fixture) createWithoutSecret(mods ...func(*webhook.Endpoint)) *webhook.Endpoint {
	f.t.Helper()
	ep := f.newEndpoint(mods...)
	require.NoError(f.t, f.s.CreateEndpoint(f.ctx, ep.Clone(), webhook.Secret{}, 0))
	return ep
}

func unsigned(ep *webhook.Endpoint) { ep.Unsigned = true }
func inactive(ep *webhook.Endpoint) { ep.Inactive = true }

// setActive stores ep's configuration with Inactive = !active at now.
func (f *fixture) setActive(ep *webhook.Endpoint, active bool, now time.Time) {
	f.t.Helper()
	upd := f.getEndpoint(ep.ID)
	upd.Inactive = !active
	upd.UpdatedAt = now
	require.NoError(f.t, f.s.UpdateEndpoint(f.ctx, upd))
	require.Equal(f.t, !active, f.getEndpoint(ep.ID).Inactive, "Inactive after UpdateEndpoint")
}

// testModel tests the endpoint fields that say how an endpoint is signed
// and whether its owner switched it off: Unsigned, TenantSecret, Inactive.
func testModel(t *testing.T, newStore newStoreFunc) {
	t.Run("Unsigned, TenantSecret and Inactive round trip", func(t *testing.T) {
		f := setup(t, newStore)
		a := f.createWithoutSecret(unsigned, inactive)
		b := f.createWithoutSecret(func(ep *webhook.Endpoint) { ep.TenantSecret = true })
		c := f.createEndpoint()
		for _, want := range []*webhook.Endpoint{a, b, c} {
			assertEndpointConfig(t, want, f.getEndpoint(want.ID))
		}
		list, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		require.Len(t, list, 3)
		for i, want := range []*webhook.Endpoint{a, b, c} {
			assertEndpointConfig(t, want, list[i])
		}
	})

	t.Run("an endpoint created with the zero Secret has none", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createWithoutSecret(unsigned)
		got, err := f.s.EndpointSecrets(f.ctx, ep.ID, base)
		require.NoError(t, err)
		assert.Empty(t, got, "EndpointSecrets")
		_, ds := f.enqueue(base, ep)
		c := f.claimOne(base, ds[0].ID)
		assert.Empty(t, c.Secrets, "Claim.Secrets")
		assert.True(t, c.Endpoint.Unsigned, "Claim.Endpoint.Unsigned")
	})

	t.Run("update replaces Inactive and keeps Unsigned and TenantSecret", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createWithoutSecret(unsigned)
		upd := ep.Clone()
		upd.Unsigned = false
		upd.TenantSecret = true
		upd.Inactive = true
		upd.UpdatedAt = at(time.Hour)
		require.NoError(t, f.s.UpdateEndpoint(f.ctx, upd))
		got := f.getEndpoint(ep.ID)
		assert.True(t, got.Inactive, "Inactive is configuration")
		assert.True(t, got.Unsigned, "Unsigned is fixed at creation")
		assert.False(t, got.TenantSecret, "TenantSecret is fixed at creation")
		assertTime(t, at(time.Hour), got.UpdatedAt, "UpdatedAt")

		upd.Inactive = false
		require.NoError(t, f.s.UpdateEndpoint(f.ctx, upd))
		assert.False(t, f.getEndpoint(ep.ID).Inactive)
	})
}

// testInactive tests Claim, Enqueue and the endpoint switch of an Inactive
// endpoint: its pending deliveries wait, uncounted, until it is active.
func testInactive(t *testing.T, newStore newStoreFunc) {
	t.Run("Claim never hands out an inactive endpoint's deliveries; they stay pending", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep, ep)
		f.setActive(ep, false, at(time.Second))
		assert.Empty(t, f.claim(at(time.Minute), 10))
		for _, d := range ds {
			got := f.getDelivery(d.ID)
			assert.Equal(t, webhook.StatePending, got.State, "paused, not ended")
			assert.Zero(t, got.Attempts)
			assert.Empty(t, got.LastError)
		}
		got := f.getEndpoint(ep.ID)
		assert.False(t, got.Disabled, "inactive is not disabled")
		assert.Zero(t, got.ConsecutiveFailures)
	})

	t.Run("reactivating resumes the waiting deliveries in due order", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, first := f.enqueueDue(base, at(time.Second), ep)
		_, second := f.enqueueDue(base, at(2*time.Second), ep)
		f.setActive(ep, false, base)
		assert.Empty(t, f.claim(at(time.Minute), 10))
		assert.Empty(t, f.claim(at(time.Hour), 10), "still waiting")
		f.setActive(ep, true, at(2*time.Hour))
		cs := f.claim(at(2*time.Hour), 10)
		assert.Equal(t, []string{first[0].ID, second[0].ID}, deliveryIDs(cs))
	})

	t.Run("an inactive endpoint does not hold back other endpoints' deliveries", func(t *testing.T) {
		f := setup(t, newStore)
		off := f.createEndpoint()
		on := f.createEndpoint()
		var paused []*webhook.Endpoint
		for i := 0; i < 30; i++ {
			paused = append(paused, off)
		}
		f.enqueue(base, paused...) // due first
		_, ds := f.enqueue(at(time.Second), on)
		f.setActive(off, false, at(time.Second))
		cs := f.claim(at(time.Minute), 1)
		assert.Equal(t, []string{ds[0].ID}, deliveryIDs(cs), "claimed behind 30 deliveries of an inactive endpoint")
	})

	t.Run("a delivery enqueued for an inactive endpoint waits for it", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createWithoutSecret(inactive, unsigned)
		_, ds := f.enqueue(base, ep)
		assert.Empty(t, f.claim(at(time.Minute), 10))
		assert.Equal(t, webhook.StatePending, f.getDelivery(ds[0].ID).State)
		f.setActive(ep, true, at(time.Hour))
		f.claimOne(at(time.Hour), ds[0].ID)
	})

	t.Run("a lease that expires while inactive waits too", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		f.claimOne(base, ds[0].ID) // the worker dies
		f.setActive(ep, false, at(time.Second))
		assert.Empty(t, f.claim(base.Add(2*lease), 10))
		f.setActive(ep, true, at(time.Hour))
		f.claimOne(at(time.Hour), ds[0].ID)
	})

	t.Run("an attempt in flight when switched off still completes", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueueDue(base, base, ep)
		_, more := f.enqueueDue(base, at(time.Millisecond), ep)
		ds = append(ds, more...)
		ok := f.claimNext(at(time.Millisecond), ds[0].ID)
		retry := f.claimNext(at(time.Millisecond), ds[1].ID)
		f.setActive(ep, false, at(time.Second))
		f.succeed(ok, at(2*time.Second))
		f.retry(retry, at(2*time.Second), at(time.Minute))
		assert.Equal(t, webhook.StateSucceeded, f.getDelivery(ds[0].ID).State)
		assert.Empty(t, f.claim(at(time.Hour), 10), "the retry waits")
		f.setActive(ep, true, at(2*time.Hour))
		f.claimOne(at(2*time.Hour), ds[1].ID)
	})

	t.Run("DisableEndpoint ends an inactive endpoint's waiting deliveries", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		f.setActive(ep, false, base)
		assert.Empty(t, f.claim(at(time.Minute), 10))
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "manual", at(2*time.Minute)))
		d := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StateFailed, d.State)
		assert.Equal(t, webhook.ReasonEndpointDisabled, d.LastError)
		require.NoError(t, f.s.EnableEndpoint(f.ctx, ep.ID, at(3*time.Minute)))
		f.setActive(ep, true, at(3*time.Minute))
		assert.Empty(t, f.claim(at(time.Hour), 10))
	})
}
