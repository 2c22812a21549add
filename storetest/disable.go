package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

func testDisable(t *testing.T, newStore newStoreFunc) {
	t.Run("disables at the threshold exactly, not before", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		const threshold = 3
		var ds []*webhook.Delivery
		for i := 0; i < threshold+2; i++ {
			_, d := f.enqueue(at(time.Duration(i)*time.Second), ep)
			ds = append(ds, d...)
		}
		for i := 1; i < threshold; i++ {
			c := f.claimNext(at(time.Minute), ds[i-1].ID)
			after, disabled := f.fail(c, at(time.Duration(i)*time.Minute), threshold)
			require.False(t, disabled, "failure %d of %d", i, threshold)
			require.False(t, after.Disabled)
			require.Equal(t, i, after.ConsecutiveFailures)
		}
		// One delivery leased when the endpoint is disabled, one waiting.
		last := f.claim(at(time.Hour), 2)
		require.Equal(t, []string{ds[threshold-1].ID, ds[threshold].ID}, deliveryIDs(last))
		after, disabled := f.fail(last[0], at(time.Hour+time.Second), threshold)
		require.True(t, disabled, "failure %d of %d", threshold, threshold)
		assert.True(t, after.Disabled)
		assert.Equal(t, threshold, after.ConsecutiveFailures)
		assertTime(t, at(time.Hour+time.Second), after.DisabledAt, "DisabledAt")
		assert.Contains(t, after.DisabledReason, "3", "the reason names the count")
		assert.Contains(t, after.DisabledReason, "HTTP 500 (attempt 1)", "the reason names the last error")

		stored := f.getEndpoint(ep.ID)
		assert.True(t, stored.Disabled)
		assert.Equal(t, after.DisabledReason, stored.DisabledReason)
		assert.Equal(t, "HTTP 500 (attempt 1)", f.getDelivery(ds[threshold-1].ID).LastError)
		for _, d := range ds[threshold:] {
			got := f.getDelivery(d.ID)
			assert.Equal(t, webhook.StateFailed, got.State, "pending deliveries of a disabled endpoint end")
			assert.Equal(t, webhook.ReasonEndpointDisabled, got.LastError)
		}
		// The leased one's worker records nothing if its attempt failed
		// (a success would be recorded: see DisableRace).
		_, _, err := f.s.Complete(f.ctx, completion(last[1], webhook.OutcomeFail, at(3*time.Hour)))
		require.ErrorIs(t, err, webhook.ErrLeaseLost)
		assert.Empty(t, f.attempts(ds[threshold].ID))
		assert.True(t, f.getEndpoint(ep.ID).Disabled)
	})

	t.Run("a success between failures starts the count again", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		for i := 0; i < 6; i++ {
			f.enqueue(at(time.Duration(i)*time.Second), ep)
		}
		outcomes := []webhook.Outcome{webhook.OutcomeFail, webhook.OutcomeFail, webhook.OutcomeSuccess, webhook.OutcomeFail, webhook.OutcomeFail}
		for i, o := range outcomes {
			c := f.claim(at(time.Minute), 1)
			require.Len(t, c, 1)
			comp := completion(c[0], o, at(time.Minute+time.Duration(i)*time.Second))
			comp.DisableAfter = 3
			_, disabled := f.complete(comp)
			require.False(t, disabled, "completion %d", i)
		}
		assert.Equal(t, 2, f.getEndpoint(ep.ID).ConsecutiveFailures)
	})

	t.Run("DisableAfter 0 never disables by count", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		for i := 0; i < 8; i++ {
			f.enqueue(at(time.Duration(i)*time.Second), ep)
		}
		for i := 0; i < 8; i++ {
			_, disabled := f.fail(f.claim(at(time.Minute), 1)[0], at(time.Minute), 0)
			require.False(t, disabled)
		}
		got := f.getEndpoint(ep.ID)
		assert.False(t, got.Disabled)
		assert.Equal(t, 8, got.ConsecutiveFailures)
	})

	t.Run("DisableReason disables at once with that reason", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		other := f.createEndpoint()
		_, first := f.enqueue(base, ep)
		_, ds := f.enqueue(at(time.Second), ep, ep, other)
		c := f.claimOne(base, first[0].ID)
		comp := completion(c, webhook.OutcomeFail, at(time.Second))
		comp.DisableReason = "endpoint answered 410 Gone"
		comp.DisableAfter = 5
		after, disabled := f.complete(comp)
		require.True(t, disabled)
		assert.True(t, after.Disabled)
		assert.Equal(t, "endpoint answered 410 Gone", after.DisabledReason)
		assertTime(t, at(time.Second), after.DisabledAt, "DisabledAt")
		assert.Equal(t, 1, after.ConsecutiveFailures)
		for _, d := range ds[:2] {
			assert.Equal(t, webhook.StateFailed, f.getDelivery(d.ID).State)
			assert.Equal(t, webhook.ReasonEndpointDisabled, f.getDelivery(d.ID).LastError)
		}
		assert.Equal(t, webhook.StatePending, f.getDelivery(ds[2].ID).State, "other endpoints are untouched")
		assert.Equal(t, []string{ds[2].ID}, deliveryIDs(f.claim(at(time.Minute), 10)))
	})

	t.Run("DisableEndpoint ends pending deliveries and Claim never returns them", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueueDue(base, at(time.Hour), ep, ep)
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "customer asked", at(time.Minute)))
		got := f.getEndpoint(ep.ID)
		assert.True(t, got.Disabled)
		assert.Equal(t, "customer asked", got.DisabledReason)
		assertTime(t, at(time.Minute), got.DisabledAt, "DisabledAt")
		for _, d := range ds {
			stored := f.getDelivery(d.ID)
			assert.Equal(t, webhook.StateFailed, stored.State)
			assert.Equal(t, webhook.ReasonEndpointDisabled, stored.LastError)
		}
		assert.Empty(t, f.claim(at(2*time.Hour), 10))
	})

	t.Run("disabling twice keeps the first reason and time", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "first", at(time.Minute)))
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "second", at(time.Hour)))
		got := f.getEndpoint(ep.ID)
		assert.True(t, got.Disabled)
		assert.Equal(t, "first", got.DisabledReason)
		assertTime(t, at(time.Minute), got.DisabledAt, "DisabledAt")
	})

	t.Run("a delivery enqueued for a disabled endpoint is never claimed and ends failed", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "manual", base))
		_, ds := f.enqueue(at(time.Second), ep)
		assert.Empty(t, f.claim(at(time.Minute), 10))
		d := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StateFailed, d.State)
		assert.Equal(t, webhook.ReasonEndpointDisabled, d.LastError)
		// Enabling does not bring it back by itself.
		require.NoError(t, f.s.EnableEndpoint(f.ctx, ep.ID, at(2*time.Minute)))
		assert.Empty(t, f.claim(at(time.Hour), 10))
	})

	t.Run("enable clears the disabled state and resets the failure count", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep, ep)
		f.fail(f.claim(base, 1)[0], at(time.Second), 2)
		_, disabled := f.fail(f.claim(base, 1)[0], at(2*time.Second), 2)
		require.True(t, disabled)

		require.NoError(t, f.s.EnableEndpoint(f.ctx, ep.ID, at(time.Hour)))
		got := f.getEndpoint(ep.ID)
		assert.False(t, got.Disabled)
		assert.Empty(t, got.DisabledReason)
		assert.True(t, got.DisabledAt.IsZero())
		assert.Zero(t, got.ConsecutiveFailures)
		assert.Equal(t, "HTTP 500 (attempt 1)", got.LastFailureReason, "the last failure stays on record")

		// The count starts again from zero: one more failure does not disable.
		_, more := f.enqueue(at(time.Hour), ep)
		_, disabled = f.fail(f.claimOne(at(time.Hour), more[0].ID), at(time.Hour+time.Second), 2)
		assert.False(t, disabled)
		assert.Equal(t, 1, f.getEndpoint(ep.ID).ConsecutiveFailures)
		assert.Len(t, ds, 2)
	})

	t.Run("the count-based reason names the count", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		after, disabled := f.fail(f.claimOne(base, ds[0].ID), at(time.Second), 1)
		require.True(t, disabled)
		assert.True(t, strings.Contains(after.DisabledReason, "1"), "reason %q", after.DisabledReason)
	})
}
