package storetest

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// testRegressAttemptsOrder: ListAttempts is oldest first (by StartedAt)
// also after Requeue, which starts Attempt.Number again at 1. A store that
// orders by Number interleaves the two runs.
func testRegressAttemptsOrder(t *testing.T, newStore newStoreFunc) {
	f := setup(t, newStore)
	ep := f.createEndpoint()
	_, ds := f.enqueue(base, ep)
	id := ds[0].ID
	var want []string

	// First run: a retry, then a failure that ends the delivery.
	c := f.claimOne(at(time.Second), id)
	f.retry(c, at(2*time.Second), at(time.Minute))
	want = append(want, f.attempts(id)[0].ID)
	c = f.claimOne(at(time.Minute), id)
	f.fail(c, at(time.Minute+time.Second), 0)
	require.Len(t, f.attempts(id), 2)

	// Requeued (Redeliver), the second run counts from 1 again.
	n, err := f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: id, Now: at(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	c = f.claimOne(at(time.Hour), id)
	require.Zero(t, c.Delivery.Attempts)
	first := completion(c, webhook.OutcomeRetry, at(time.Hour+time.Second))
	first.RetryAt = at(time.Hour + time.Minute)
	f.complete(first)
	c = f.claimOne(at(time.Hour+time.Minute), id)
	last := completion(c, webhook.OutcomeSuccess, at(time.Hour+time.Minute+time.Second))
	f.complete(last)

	as := f.attempts(id)
	require.Len(t, as, 4)
	for i := 1; i < len(as); i++ {
		assert.False(t, as[i].StartedAt.Before(as[i-1].StartedAt),
			"attempt %d (number %d, started %v) listed after attempt %d (number %d, started %v)",
			i, as[i].Number, as[i].StartedAt, i-1, as[i-1].Number, as[i-1].StartedAt)
	}
	assert.Equal(t, want[0], as[0].ID, "the first attempt of the first run comes first")
	assert.Equal(t, []int{1, 2, 1, 2}, []int{as[0].Number, as[1].Number, as[2].Number, as[3].Number}, "numbers in list order")
	assert.Equal(t, first.Attempt.ID, as[2].ID)
	assert.Equal(t, last.Attempt.ID, as[3].ID)
	assert.True(t, as[3].Success)
}

// testRegressTimeRange: times a store can hold come back as they went in
// (year 2200 is inside the int64-nanosecond range, which ends in 2262);
// times beyond what it can hold are saturated, never wrapped around. With
// nanoseconds in an int64, year 3000 used to come back as 1830: an event
// from the future became due at once, and a secret's far-off expiry
// (RotateSecret with a grace of math.MaxInt64) lay in the past, so the old
// secret stopped signing at once.
func testRegressTimeRange(t *testing.T, newStore newStoreFunc) {
	y2200 := time.Date(2200, time.June, 1, 2, 3, 4, 0, time.UTC)
	y3000 := time.Date(3000, time.January, 1, 0, 0, 0, 0, time.UTC)

	t.Run("times within the range read back equal", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev, ds := f.enqueueDue(y2200, y2200, ep)
		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assertTime(t, y2200, got.CreatedAt, "event CreatedAt")
		d := f.getDelivery(ds[0].ID)
		assertTime(t, y2200, d.CreatedAt, "delivery CreatedAt")
		assertTime(t, y2200, d.NextAttemptAt, "delivery NextAttemptAt")
		assert.Empty(t, f.claim(base, 10), "due in 2200, not now")
	})

	t.Run("times beyond the range are saturated, not wrapped", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev, ds := f.enqueueDue(y3000, y3000, ep)
		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.False(t, got.CreatedAt.Before(y2200), "event CreatedAt in year 3000 read back as %v", got.CreatedAt)
		d := f.getDelivery(ds[0].ID)
		assert.False(t, d.NextAttemptAt.Before(y2200), "NextAttemptAt in year 3000 read back as %v", d.NextAttemptAt)
		assert.Empty(t, f.claim(base, 10), "due in year 3000, not now")
	})

	t.Run("a secret expiring far in the future is active", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.newEndpoint()
		sec := firstSecret(ep)
		sec.ExpiresAt = time.Unix(1<<62, 0)
		require.NoError(t, f.s.CreateEndpoint(f.ctx, ep.Clone(), sec, 0))
		got, err := f.s.EndpointSecrets(f.ctx, ep.ID, base)
		require.NoError(t, err)
		require.Len(t, got, 1, "the secret expiring in year 146 billion is active now")
		assert.False(t, got[0].ExpiresAt.Before(y2200), "ExpiresAt read back as %v", got[0].ExpiresAt)
	})

	t.Run("rotating with the longest grace keeps the old secret signing", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		now := at(time.Hour)
		next := webhook.Secret{Value: "whsec_next_" + ep.ID, CreatedAt: now}
		grace := time.Duration(math.MaxInt64) // about 292 years: past 2262
		require.NoError(t, f.s.RotateSecret(f.ctx, ep.ID, next, now.Add(grace)))
		for _, when := range []time.Time{now, y2200} {
			got, err := f.s.EndpointSecrets(f.ctx, ep.ID, when)
			require.NoError(t, err)
			require.Len(t, got, 2, "both secrets sign at %v", when)
			assert.Equal(t, next.Value, got[0].Value, "the new secret first")
			assert.Equal(t, firstSecret(ep).Value, got[1].Value)
			assert.False(t, got[1].ExpiresAt.Before(y2200), "old secret's ExpiresAt read back as %v", got[1].ExpiresAt)
		}
		_, ds := f.enqueue(now, ep)
		c := f.claimOne(now, ds[0].ID)
		assert.Len(t, c.Secrets, 2, "Claim hands out both secrets")
	})
}
