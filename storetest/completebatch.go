package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// BatchCompleter tests webhook.BatchCompleter: a batch applies its
// completions in order exactly as a sequence of Completes would (each one
// applies or is ErrLeaseLost on its own), except that a success may leave
// LastSuccessAt up to webhook.SuccessGranularity stale. The suite's reading:
// LastSuccessAt after a batched success is at least the previous value and
// lags the success's Now by less than SuccessGranularity; a success always
// resets ConsecutiveFailures.
func (s Suite) BatchCompleter(t *testing.T) {
	n := s.newStore()
	t.Run("Mixed", func(t *testing.T) { testBatchMixed(t, n) })
	t.Run("StaleToken", func(t *testing.T) { testBatchStale(t, n) })
	t.Run("DisableRace", func(t *testing.T) { testBatchDisableRace(t, n) })
	t.Run("Granularity", func(t *testing.T) { testBatchGranularity(t, n) })
	t.Run("Concurrency", func(t *testing.T) { testBatchConcurrency(t, n) })
	t.Run("Text", func(t *testing.T) { testBatchText(t, n) })
}

func batcher(t *testing.T, f *fixture) webhook.BatchCompleter {
	t.Helper()
	bc, ok := f.s.(webhook.BatchCompleter)
	require.True(t, ok, "the store is not a webhook.BatchCompleter")
	return bc
}

// claimAll claims every delivery due at now, one claim per delivery, in the
// order of ids.
func (f *fixture) claimAll(now time.Time, ids []string) []*webhook.Claim {
	f.t.Helper()
	cs := f.claim(now, len(ids)+1)
	require.Len(f.t, cs, len(ids))
	byID := map[string]*webhook.Claim{}
	for _, c := range cs {
		byID[c.Delivery.ID] = c
	}
	out := make([]*webhook.Claim, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
		require.NotNil(f.t, out[i], "delivery %s not claimed", id)
	}
	return out
}

func testBatchMixed(t *testing.T, newStore newStoreFunc) {
	f := setup(t, newStore)
	bc := batcher(t, f)
	a, b := f.createEndpoint(), f.createEndpoint()
	var ids []string
	for range 3 {
		_, ds := f.enqueue(base, a, b)
		ids = append(ids, ids2(ds)...)
	}
	_, ds := f.enqueue(base, b)
	ids = append(ids, ds[0].ID)
	// ids: a0 b0 a1 b1 a2 b2 b3
	cs := f.claimAll(at(time.Second), ids)
	now := at(2 * time.Second)
	comp := func(c *webhook.Claim, o webhook.Outcome) webhook.Completion {
		x := completion(c, o, now)
		x.DisableAfter = 2
		x.RetryAt = at(time.Hour)
		return x
	}
	batch := []webhook.Completion{
		comp(cs[0], webhook.OutcomeSuccess), // a0
		comp(cs[2], webhook.OutcomeRetry),   // a1: no count
		comp(cs[1], webhook.OutcomeFail),    // b0: 1
		comp(cs[3], webhook.OutcomeFail),    // b1: 2, disables b
		comp(cs[5], webhook.OutcomeFail),    // b2: b is disabled: ErrLeaseLost
		comp(cs[6], webhook.OutcomeSuccess), // b3: recorded though the disable ended it
		comp(cs[4], webhook.OutcomeFail),    // a2: 1, a stays enabled
	}
	res, err := bc.CompleteBatch(f.ctx, batch)
	require.NoError(t, err)
	require.Len(t, res, len(batch))
	for i, r := range res {
		if i == 4 {
			require.ErrorIs(t, r.Err, webhook.ErrLeaseLost, "a failure after the disable counts nothing")
			continue
		}
		require.NoError(t, r.Err, "completion %d", i)
		require.NotNil(t, r.Endpoint, "completion %d", i)
		assert.Equal(t, i == 3, r.Disabled, "completion %d: only the threshold disables, once", i)
	}
	assert.Equal(t, 1, res[2].Endpoint.ConsecutiveFailures)
	assert.Equal(t, 2, res[3].Endpoint.ConsecutiveFailures)
	assert.True(t, res[3].Endpoint.Disabled)
	assert.True(t, res[5].Endpoint.Disabled, "a success leaves the endpoint disabled")
	assert.Zero(t, res[5].Endpoint.ConsecutiveFailures, "a success resets the count")
	assert.Equal(t, 1, res[6].Endpoint.ConsecutiveFailures)
	assert.False(t, res[6].Endpoint.Disabled)

	sa, sb := f.getEndpoint(a.ID), f.getEndpoint(b.ID)
	assert.Equal(t, 1, sa.ConsecutiveFailures)
	assert.False(t, sa.Disabled)
	assertTime(t, now, sa.LastFailureAt, "a LastFailureAt")
	assertTime(t, now, sa.LastSuccessAt, "a LastSuccessAt (no success before: exact)")
	assert.True(t, sb.Disabled)
	assert.Contains(t, sb.DisabledReason, "2 consecutive failed deliveries")
	assert.Zero(t, sb.ConsecutiveFailures)

	want := map[string]webhook.DeliveryState{
		ids[0]: webhook.StateSucceeded, ids[2]: webhook.StatePending, ids[1]: webhook.StateFailed,
		ids[3]: webhook.StateFailed, ids[5]: webhook.StateFailed, ids[6]: webhook.StateSucceeded, ids[4]: webhook.StateFailed,
	}
	for id, st := range want {
		assert.Equal(t, st, f.getDelivery(id).State, "delivery %s", id)
	}
	assert.Equal(t, webhook.ReasonEndpointDisabled, f.getDelivery(ids[5]).LastError)
	assert.Empty(t, f.attempts(ids[5]), "a completion that lost its lease records no attempt")
	for _, i := range []int{0, 1, 2, 3, 4, 6} {
		as := f.attempts(ids[i])
		require.Len(t, as, 1, "delivery %d", i)
		assert.Equal(t, batch[slicesIndex(batch, ids[i])].Attempt.ID, as[0].ID)
	}
}

func ids2(ds []*webhook.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func slicesIndex(cs []webhook.Completion, id string) int {
	for i, c := range cs {
		if c.DeliveryID == id {
			return i
		}
	}
	return -1
}

func testBatchStale(t *testing.T, newStore newStoreFunc) {
	f := setup(t, newStore)
	bc := batcher(t, f)
	ep := f.createEndpoint()
	_, d1 := f.enqueue(base, ep)
	old := f.claimOne(base, d1[0].ID)
	_, d2 := f.enqueue(base, ep)
	// The lease expires and the delivery is claimed again (with d2).
	again := f.claimAll(base.Add(lease+time.Second), []string{d1[0].ID, d2[0].ID})
	now := base.Add(lease + 2*time.Second)
	res, err := bc.CompleteBatch(f.ctx, []webhook.Completion{
		completion(old, webhook.OutcomeFail, now),
		completion(again[1], webhook.OutcomeSuccess, now),
	})
	require.NoError(t, err)
	require.Len(t, res, 2)
	require.ErrorIs(t, res[0].Err, webhook.ErrLeaseLost)
	require.NoError(t, res[1].Err)
	assert.Equal(t, webhook.StatePending, f.getDelivery(d1[0].ID).State)
	assert.Empty(t, f.attempts(d1[0].ID))
	assert.Equal(t, webhook.StateSucceeded, f.getDelivery(d2[0].ID).State)
	assert.Zero(t, f.getEndpoint(ep.ID).ConsecutiveFailures, "the stale failure counted nothing")
	// The current lease still completes.
	f.succeed(again[0], now.Add(time.Second))
}

func testBatchDisableRace(t *testing.T, newStore newStoreFunc) {
	f := setup(t, newStore)
	bc := batcher(t, f)
	ep := f.createEndpoint()
	_, first := f.enqueue(base, ep)
	f.fail(f.claimOne(base, first[0].ID), at(time.Second), 0)
	_, ds := f.enqueue(at(2*time.Second), ep, ep)
	_ = ds
	cs := f.claim(at(2*time.Second), 10)
	require.Len(t, cs, 2)
	require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "by hand", at(3*time.Second)))
	res, err := bc.CompleteBatch(f.ctx, []webhook.Completion{
		completion(cs[0], webhook.OutcomeSuccess, at(4*time.Second)),
		completion(cs[1], webhook.OutcomeRetry, at(4*time.Second)),
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err, "the receiver answered 2xx: that is not lost")
	assert.False(t, res[0].Disabled)
	assert.True(t, res[0].Endpoint.Disabled)
	assert.Zero(t, res[0].Endpoint.ConsecutiveFailures)
	require.ErrorIs(t, res[1].Err, webhook.ErrLeaseLost)
	assert.Equal(t, webhook.StateSucceeded, f.getDelivery(cs[0].Delivery.ID).State)
	assert.Equal(t, webhook.StateFailed, f.getDelivery(cs[1].Delivery.ID).State)
	assert.Empty(t, f.attempts(cs[1].Delivery.ID))
	stored := f.getEndpoint(ep.ID)
	assert.True(t, stored.Disabled)
	assert.Equal(t, "by hand", stored.DisabledReason)
	assert.Zero(t, stored.ConsecutiveFailures)
	assertTime(t, at(4*time.Second), stored.LastSuccessAt, "LastSuccessAt (the count was not 0: written)")
}

func testBatchGranularity(t *testing.T, newStore newStoreFunc) {
	f := setup(t, newStore)
	bc := batcher(t, f)
	ep := f.createEndpoint()
	var ids []string
	for range 3 {
		_, ds := f.enqueue(base, ep)
		ids = append(ids, ds[0].ID)
	}
	cs := f.claimAll(base, ids)
	f.succeed(cs[0], at(time.Second)) // exact: LastSuccessAt = 1 s
	now := at(time.Second + webhook.SuccessGranularity/2)
	res, err := bc.CompleteBatch(f.ctx, []webhook.Completion{completion(cs[1], webhook.OutcomeSuccess, now)})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	got := f.getEndpoint(ep.ID).LastSuccessAt
	assert.False(t, got.Before(at(time.Second)), "LastSuccessAt never goes back")
	assert.Less(t, now.Sub(got), webhook.SuccessGranularity, "LastSuccessAt lags by less than SuccessGranularity")
	assertTime(t, got, res[0].Endpoint.LastSuccessAt, "the result is the endpoint as stored")

	later := at(time.Second + 2*webhook.SuccessGranularity)
	res, err = bc.CompleteBatch(f.ctx, []webhook.Completion{completion(cs[2], webhook.OutcomeSuccess, later)})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	assertTime(t, later, f.getEndpoint(ep.ID).LastSuccessAt, "a LastSuccessAt older than the granularity is written")
}

// testBatchConcurrency: 16 goroutines claim and complete in batches, all
// failing on one endpoint that never disables: the count is exact and no
// delivery is completed twice.
func testBatchConcurrency(t *testing.T, newStore newStoreFunc) {
	f := setup(t, newStore)
	bc := batcher(t, f)
	ep := f.createEndpoint()
	const n = 160
	for range n / 2 {
		f.enqueue(base, ep, ep)
	}
	var (
		mu        sync.Mutex
		completed = map[string]int{}
		errs      []error
		wg        sync.WaitGroup
	)
	now := at(time.Second)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cs, err := f.s.Claim(f.ctx, webhook.ClaimParams{Now: now, Lease: lease, Limit: 7})
				if err != nil || len(cs) == 0 {
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
					return
				}
				batch := make([]webhook.Completion, len(cs))
				for i, c := range cs {
					batch[i] = completion(c, webhook.OutcomeFail, now)
				}
				res, err := bc.CompleteBatch(f.ctx, batch)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				for i, r := range res {
					if r.Err != nil {
						errs = append(errs, r.Err)
						continue
					}
					completed[batch[i].DeliveryID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Empty(t, errs)
	assert.Len(t, completed, n)
	for id, k := range completed {
		assert.Equal(t, 1, k, "delivery %s completed %d times", id, k)
	}
	assert.Equal(t, n, f.getEndpoint(ep.ID).ConsecutiveFailures, "every failure counted exactly once")
}
