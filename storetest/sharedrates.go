package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// limitedTo gives an endpoint its own rate limit.
func limitedTo(perSecond float64, burst int) func(*webhook.Endpoint) {
	return func(ep *webhook.Endpoint) { ep.RateLimit = webhook.RateLimit{PerSecond: perSecond, Burst: burst} }
}

// claimRated claims up to limit deliveries at now with the default rate
// limit def and the horizon ahead.
func (f *fixture) claimRated(now time.Time, limit int, def webhook.RateLimit, ahead time.Duration) []*webhook.Claim {
	f.t.Helper()
	return f.claimP(webhook.ClaimParams{Now: now, Lease: lease, Limit: limit, RateLimit: def, RateAhead: ahead})
}

// oldestFirstBesidePlain publishes one delivery for ep, then, a second
// later, one for each of six plain endpoints, and requires a Claim of 2
// to include ep's, the oldest due: a Store must not pass over an endpoint
// that needs more work to claim (a rate limit, ordering) for later-due
// deliveries of plain ones.
func (f *fixture) oldestFirstBesidePlain(ep *webhook.Endpoint) {
	f.t.Helper()
	old := f.publish(1, base, ep)
	for range 6 {
		f.publish(1, at(time.Second), f.createEndpoint())
	}
	cs := f.claimP(webhook.ClaimParams{Now: at(2 * time.Second), Lease: lease, Limit: 2, MaxPerEndpoint: 4})
	require.Len(f.t, cs, 2)
	assert.Contains(f.t, deliveryIDs(cs), old[0].ID, "the first claim takes the oldest due delivery")
}

// SharedRates tests webhook.SharedRateStore: Claim takes a token of a
// rate-limited endpoint's bucket, kept in the Store, for each delivery it
// hands out, so that every caller of Claim draws on one budget; a token
// due within the horizon is handed out with its time in NotBefore;
// unlimited endpoints take none and are not held back.
func (s Suite) SharedRates(t *testing.T) {
	newStore := s.newStore()
	none := webhook.RateLimit{}

	t.Run("a burst, then one token per interval, whoever claims", func(t *testing.T) {
		f, _ := optional[webhook.SharedRateStore](t, newStore, "SharedRateStore")
		ep := f.createEndpoint(limitedTo(10, 2))
		f.publish(6, base, ep)
		t0 := at(time.Second)
		cs := f.claimRated(t0, 10, none, 0)
		require.Len(t, cs, 2, "the burst")
		for _, c := range cs {
			assert.True(t, c.NotBefore.IsZero(), "a token due now: NotBefore is zero")
		}
		assert.Empty(t, f.claimRated(t0, 10, none, 0), "the bucket is empty for every caller")
		assert.Empty(t, f.claimRated(t0.Add(99*time.Millisecond), 10, none, 0), "the next token is due 100 ms later")
		assert.Len(t, f.claimRated(t0.Add(100*time.Millisecond), 10, none, 0), 1)
		assert.Empty(t, f.claimRated(t0.Add(150*time.Millisecond), 10, none, 0))
		assert.Len(t, f.claimRated(t0.Add(200*time.Millisecond), 10, none, 0), 1)
		assert.Len(t, f.claimRated(t0.Add(time.Hour), 10, none, 0), 2, "a quiet hour fills the bucket to its burst, no more")
	})

	t.Run("RateAhead hands out the next token with its time in NotBefore", func(t *testing.T) {
		f, _ := optional[webhook.SharedRateStore](t, newStore, "SharedRateStore")
		ep := f.createEndpoint(limitedTo(10, 1))
		f.publish(4, base, ep)
		t0 := at(time.Second)
		cs := f.claimRated(t0, 10, none, time.Second)
		require.Len(t, cs, 2, "the token due now and the next, 100 ms away (one interval at most)")
		var times []time.Time
		for _, c := range cs {
			times = append(times, c.NotBefore)
		}
		assert.ElementsMatch(t, []time.Time{{}, t0.Add(100 * time.Millisecond)}, times)
		assert.Empty(t, f.claimRated(t0.Add(50*time.Millisecond), 10, none, time.Second), "the one after is 200 ms away: beyond the horizon")
		cs = f.claimRated(t0.Add(100*time.Millisecond), 10, none, time.Second)
		require.Len(t, cs, 1)
		assert.True(t, cs[0].NotBefore.Equal(t0.Add(200*time.Millisecond)), "NotBefore %v", cs[0].NotBefore)
		assert.Empty(t, f.claimRated(t0.Add(100*time.Millisecond), 10, none, 20*time.Millisecond), "a horizon shorter than the interval reserves nothing")
	})

	t.Run("ClaimParams.RateLimit applies to endpoints without their own", func(t *testing.T) {
		f, _ := optional[webhook.SharedRateStore](t, newStore, "SharedRateStore")
		plain := f.createEndpoint()
		own := f.createEndpoint(limitedTo(10, 3))
		f.publish(5, base, plain)
		f.publish(5, base, own)
		perEndpoint := func(cs []*webhook.Claim) map[string]int {
			n := map[string]int{}
			for _, c := range cs {
				n[c.Endpoint.ID]++
			}
			return n
		}
		got := perEndpoint(f.claimRated(at(time.Second), 20, webhook.RateLimit{PerSecond: 1, Burst: 2}, 0))
		assert.Equal(t, map[string]int{plain.ID: 2, own.ID: 3}, got, "the default's burst, and the endpoint's own")
		got = perEndpoint(f.claimRated(at(time.Second), 20, none, 0))
		assert.Equal(t, map[string]int{plain.ID: 3}, got, "without a default, an endpoint without a limit is unlimited")
	})

	t.Run("a retry takes a token like a first attempt", func(t *testing.T) {
		f, _ := optional[webhook.SharedRateStore](t, newStore, "SharedRateStore")
		ep := f.createEndpoint(limitedTo(10, 1))
		ds := f.publish(1, base, ep)
		t0 := at(time.Second)
		cs := f.claimRated(t0, 10, none, 0)
		require.Len(t, cs, 1)
		f.retry(cs[0], t0.Add(10*time.Millisecond), t0.Add(20*time.Millisecond))
		assert.Empty(t, f.claimRated(t0.Add(20*time.Millisecond), 10, none, 0), "the retry is due, its token is not")
		cs = f.claimRated(t0.Add(100*time.Millisecond), 10, none, 0)
		require.Len(t, cs, 1)
		assert.Equal(t, ds[0].ID, cs[0].Delivery.ID)
	})

	t.Run("deliveries waiting for a token hold back no other endpoint", func(t *testing.T) {
		f, _ := optional[webhook.SharedRateStore](t, newStore, "SharedRateStore")
		slow := f.createEndpoint(limitedTo(1, 1))
		plain := f.createEndpoint()
		f.publish(40, base, slow) // due first
		free := f.publish(3, at(time.Second), plain)
		cs := f.claimRated(at(time.Minute), 4, none, 0)
		var gotFree []string
		slowN := 0
		for _, c := range cs {
			if c.Endpoint.ID == plain.ID {
				gotFree = append(gotFree, c.Delivery.ID)
			} else {
				slowN++
			}
		}
		assert.Equal(t, 1, slowN, "one token for the limited endpoint")
		assert.ElementsMatch(t, ids(free), gotFree, "claimed behind 39 deliveries waiting for a token")
	})

	t.Run("an older delivery with a token is not passed over for later ones of plain endpoints", func(t *testing.T) {
		f, _ := optional[webhook.SharedRateStore](t, newStore, "SharedRateStore")
		f.oldestFirstBesidePlain(f.createEndpoint(limitedTo(10, 10)))
	})

	t.Run("concurrent Claims never grant one token twice", func(t *testing.T) {
		f, _ := optional[webhook.SharedRateStore](t, newStore, "SharedRateStore")
		ep := f.createEndpoint(limitedTo(100, 5))
		f.publish(60, base, ep)
		t0 := at(time.Second)
		const claimers = 8
		var (
			mu    sync.Mutex
			total int
			wg    sync.WaitGroup
		)
		for g := 0; g < claimers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cs, err := f.s.Claim(f.ctx, webhook.ClaimParams{Now: t0, Lease: lease, Limit: 10})
				assert.NoError(t, err)
				mu.Lock()
				total += len(cs)
				mu.Unlock()
			}()
		}
		wg.Wait()
		assert.Equal(t, 5, total, "%d concurrent Claims at one instant share a burst of 5", claimers)
		assert.Len(t, f.claimRated(t0.Add(10*time.Millisecond), 10, none, 0), 1, "and then one per 10 ms")
	})
}
