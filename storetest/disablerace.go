package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// testDisableRace: an endpoint disabled while an attempt is in flight. The
// receiver's answer is what happened: a 2xx is recorded as a success, a
// failure counts nothing toward an endpoint that is already disabled.
func testDisableRace(t *testing.T, newStore newStoreFunc) {
	// inFlight returns a claim of a delivery whose endpoint has one failure
	// on its count and was disabled by hand after the claim.
	inFlight := func(t *testing.T) (*fixture, *webhook.Endpoint, *webhook.Claim) {
		t.Helper()
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, first := f.enqueue(base, ep)
		f.fail(f.claimOne(base, first[0].ID), at(time.Second), 0)
		_, ds := f.enqueue(at(2*time.Second), ep)
		c := f.claimOne(at(2*time.Second), ds[0].ID)
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "by hand", at(3*time.Second)))
		return f, ep, c
	}

	t.Run("a success in flight when the endpoint is disabled is recorded", func(t *testing.T) {
		f, ep, c := inFlight(t)
		after, disabled, err := f.s.Complete(f.ctx, completion(c, webhook.OutcomeSuccess, at(4*time.Second)))
		require.NoError(t, err, "the receiver answered 2xx: that is not lost")
		require.NotNil(t, after)
		assert.False(t, disabled, "this call disabled nothing")
		assert.True(t, after.Disabled, "the endpoint stays disabled")
		assert.Equal(t, "by hand", after.DisabledReason)
		assertTime(t, at(4*time.Second), after.LastSuccessAt, "LastSuccessAt")
		assert.Zero(t, after.ConsecutiveFailures, "a success resets the count")

		got := f.getDelivery(c.Delivery.ID)
		assert.Equal(t, webhook.StateSucceeded, got.State)
		assert.Empty(t, got.LastError)
		assert.Equal(t, 1, got.Attempts)
		as := f.attempts(c.Delivery.ID)
		require.Len(t, as, 1)
		assert.True(t, as[0].Success)
		stored := f.getEndpoint(ep.ID)
		assertTime(t, at(4*time.Second), stored.LastSuccessAt, "stored LastSuccessAt")
		assert.True(t, stored.Disabled)
	})

	for _, outcome := range []webhook.Outcome{webhook.OutcomeFail, webhook.OutcomeRetry} {
		t.Run("a "+outcome.String()+" in flight when the endpoint is disabled counts nothing", func(t *testing.T) {
			f, ep, c := inFlight(t)
			comp := completion(c, outcome, at(4*time.Second))
			comp.DisableAfter = 1
			comp.RetryAt = at(time.Hour)
			_, _, err := f.s.Complete(f.ctx, comp)
			require.ErrorIs(t, err, webhook.ErrLeaseLost)
			stored := f.getEndpoint(ep.ID)
			assert.Equal(t, 1, stored.ConsecutiveFailures)
			assert.Equal(t, "by hand", stored.DisabledReason)
			got := f.getDelivery(c.Delivery.ID)
			assert.Equal(t, webhook.StateFailed, got.State)
			assert.Equal(t, webhook.ReasonEndpointDisabled, got.LastError)
			assert.Empty(t, f.attempts(c.Delivery.ID))
			assert.Empty(t, f.claim(at(2*time.Hour), 10))
		})
	}

	t.Run("once requeued, the old lease's success is lost", func(t *testing.T) {
		f, ep, c := inFlight(t)
		require.NoError(t, f.s.EnableEndpoint(f.ctx, ep.ID, at(4*time.Second)))
		n, err := f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: c.Delivery.ID, Now: at(5 * time.Second)})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, _, err = f.s.Complete(f.ctx, completion(c, webhook.OutcomeSuccess, at(6*time.Second)))
		require.ErrorIs(t, err, webhook.ErrLeaseLost)
		got := f.getDelivery(c.Delivery.ID)
		assert.Equal(t, webhook.StatePending, got.State, "queued again, it goes out again")
		f.claimOne(at(6*time.Second), c.Delivery.ID)
	})
}
