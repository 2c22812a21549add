package webhook_test

import (
	"context"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// testClock is a Config.Clock that moves only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// holds asserts that rc has exactly n requests now and still has after a
// while (the frozen clock lets nothing more go: a while of wall time is
// enough to see that nothing does).
func holds(t *testing.T, rc *webhooktest.Receiver, n int, what string) {
	t.Helper()
	eventually(t, func() bool { return rc.Len() >= n }, what)
	time.Sleep(150 * time.Millisecond) // 30 polls: a held delivery would have gone
	require.Equal(t, n, rc.Len(), what)
}

func publishN(t *testing.T, f *fixture, n int) {
	t.Helper()
	for range n {
		f.publish(t, webhook.Event{Type: "post.created"})
	}
}

// A rate of 10/s with a burst of 4 sends 4 at once, then one per 100 ms
// of clock time, and no more while the clock stands still.
func TestRateLimitSendsBurstThenOnePerInterval(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) {
		c.Clock = clk.Now
		c.MaxInFlightPerEndpoint = 2
	})
	rc := webhooktest.NewReceiver(t)
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL(), RateLimit: webhook.RateLimit{PerSecond: 10, Burst: 4}})
	assert.Equal(t, webhook.RateLimit{PerSecond: 10, Burst: 4}, f.get(t, ep.ID).RateLimit, "stored")
	publishN(t, f, 12)
	holds(t, rc, 4, "the burst goes at once, and then nothing while the clock stands")
	clk.Advance(100 * time.Millisecond)
	holds(t, rc, 5, "one more per 100 ms")
	clk.Advance(100 * time.Millisecond)
	holds(t, rc, 6, "one more per 100 ms")
	clk.Advance(250 * time.Millisecond)
	holds(t, rc, 8, "two in 250 ms, half a token left")
	clk.Advance(50 * time.Millisecond)
	holds(t, rc, 9, "the half token and 50 ms make one")
	clk.Advance(time.Hour)
	holds(t, rc, 12, "the rest; the bucket holds no more than Burst")
}

// The Config default applies to endpoints without a limit of their own.
func TestConfigRateLimitIsTheDefault(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) {
		c.Clock = clk.Now
		c.MaxInFlightPerEndpoint = 1
		c.RateLimit = webhook.RateLimit{PerSecond: 1, Burst: 2}
	})
	rc := webhooktest.NewReceiver(t)
	own := webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	f.endpoint(t, webhook.EndpointParams{URL: own.URL(), RateLimit: webhook.RateLimit{PerSecond: 1, Burst: 5}})
	publishN(t, f, 6)
	holds(t, rc, 2, "Config.RateLimit's burst")
	holds(t, own, 5, "the endpoint's own burst")
	clk.Advance(time.Second)
	holds(t, rc, 3, "one a second")
}

// Every attempt takes a token: a retry waits for one like a first try.
func TestRateLimitRetryTakesAToken(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) { c.Clock = clk.Now })
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL(), RateLimit: webhook.RateLimit{PerSecond: 10, Burst: 1}})
	f.publish(t, webhook.Event{Type: "post.created"})
	holds(t, rc, 1, "the first attempt takes the only token")
	clk.Advance(10 * time.Millisecond) // the retry is due (1 ms), its token is not
	holds(t, rc, 1, "the retry waits for a token")
	clk.Advance(90 * time.Millisecond)
	holds(t, rc, 2, "the retry goes with the next token")
}

// A 429 with Retry-After: 30 pauses the endpoint as a whole: its other
// deliveries wait until the clock passes it, while another endpoint's go.
func TestRetryAfterPausesTheEndpoint(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) {
		c.Clock = clk.Now
		c.MaxInFlightPerEndpoint = 1
	})
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	f.endpoint(t, webhook.EndpointParams{TenantID: "paused", URL: rc.URL()})
	other := webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{TenantID: "other", URL: other.URL()})
	f.publish(t, webhook.Event{Type: "post.created", TenantID: "paused"})
	holds(t, rc, 1, "the 429")
	for range 3 {
		f.publish(t, webhook.Event{Type: "post.created", TenantID: "paused"})
		f.publish(t, webhook.Event{Type: "post.created", TenantID: "other"})
	}
	holds(t, other, 3, "another endpoint is not paused")
	require.Equal(t, 1, rc.Len(), "the paused endpoint's other deliveries wait")
	clk.Advance(29 * time.Second)
	holds(t, rc, 1, "still paused 29 s later")
	clk.Advance(2 * time.Second)
	holds(t, rc, 5, "after the pause: the three and the retry of the first")
}

// A 429 without Retry-After pauses nothing, and the pause is bounded by
// MaxRetryAfter.
func TestRetryAfterPauseIsBoundedByMaxRetryAfter(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) {
		c.Clock = clk.Now
		c.MaxInFlightPerEndpoint = 1
		c.MaxRetryAfter = 10 * time.Second
	})
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	f.publish(t, webhook.Event{Type: "post.created"})
	holds(t, rc, 1, "the 503")
	f.publish(t, webhook.Event{Type: "post.created"})
	holds(t, rc, 1, "paused")
	clk.Advance(11 * time.Second)
	holds(t, rc, 3, "MaxRetryAfter bounds the pause")
}

// Unlimited endpoints beside a rate-limited one are not slowed: the
// limited one's backlog waits in the Store, not in the dispatcher.
func TestRateLimitedEndpointDoesNotSlowOthers(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) {
		c.Clock = clk.Now
		c.Workers = 4
		c.MaxInFlightPerEndpoint = 1
	})
	slow := webhooktest.NewReceiver(t)
	fast := webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{URL: slow.URL(), RateLimit: webhook.RateLimit{PerSecond: 1, Burst: 1}})
	f.endpoint(t, webhook.EndpointParams{URL: fast.URL()})
	publishN(t, f, 200)
	fast.WaitFor(t, 200, 15*time.Second)
	assert.Equal(t, 1, slow.Len(), "the limited endpoint got its one token")
}

// storeWithoutRateLimits is a Store without the RateLimitStore ability.
type storeWithoutRateLimits struct{ webhook.Store }

func TestRateLimitValidation(t *testing.T) {
	ctx := context.Background()
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{AllowPrivateNetworks: true})
	require.NoError(t, err)
	for _, tc := range []struct {
		rl    webhook.RateLimit
		field string
	}{
		{webhook.RateLimit{PerSecond: -1}, "RateLimit.PerSecond"},
		{webhook.RateLimit{PerSecond: math.NaN()}, "RateLimit.PerSecond"},
		{webhook.RateLimit{PerSecond: math.Inf(1)}, "RateLimit.PerSecond"},
		{webhook.RateLimit{PerSecond: 1e-9}, "RateLimit.PerSecond"},
		{webhook.RateLimit{PerSecond: 2e6}, "RateLimit.PerSecond"},
		{webhook.RateLimit{PerSecond: 1, Burst: -1}, "RateLimit.Burst"},
		{webhook.RateLimit{PerSecond: 1, Burst: webhook.MaxRateBurst + 1}, "RateLimit.Burst"},
		{webhook.RateLimit{Burst: 5}, "RateLimit.Burst"},
	} {
		_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "v", URL: "http://127.0.0.1/", RateLimit: tc.rl})
		var ve *webhook.ValidationError
		require.ErrorAs(t, err, &ve, "%+v", tc.rl)
		assert.Equal(t, tc.field, ve.Field, "%+v", tc.rl)
		_, err = webhook.NewDispatcher(memstore.New(), &webhook.Config{RateLimit: tc.rl})
		require.Error(t, err, "Config.RateLimit %+v", tc.rl)
		assert.Contains(t, err.Error(), "Config."+tc.field)
	}
	list, err := d.ListEndpoints(ctx, "v")
	require.NoError(t, err)
	assert.Empty(t, list, "nothing stored")

	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "v", URL: "http://127.0.0.1/"})
	require.NoError(t, err)
	_, err = d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: "http://127.0.0.1/", RateLimit: webhook.RateLimit{PerSecond: math.Inf(-1)}})
	var ve *webhook.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Zero(t, ep.RateLimit)

	plain, err := webhook.NewDispatcher(storeWithoutRateLimits{memstore.New()}, &webhook.Config{AllowPrivateNetworks: true, RateLimit: webhook.RateLimit{PerSecond: 5}})
	require.NoError(t, err, "Config.RateLimit needs no Store ability")
	_, _, err = plain.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "v", URL: "http://127.0.0.1/", RateLimit: webhook.RateLimit{PerSecond: 5}})
	require.ErrorIs(t, err, webhook.ErrNotSupported)
	ep, _, err = plain.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "v", URL: "http://127.0.0.1/"})
	require.NoError(t, err)
	_, err = plain.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: "http://127.0.0.1/", RateLimit: webhook.RateLimit{PerSecond: 5}})
	require.ErrorIs(t, err, webhook.ErrNotSupported)
}
