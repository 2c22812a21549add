package webhook_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// blockedRelease is a memstore whose Release does not return until the
// test lets it (a stalled database), or 20 s have passed.
type blockedRelease struct {
	*memstore.Store
	unblock  chan struct{}
	mu       sync.Mutex
	calls    int
	timedOut bool
}

func (s *blockedRelease) Release(ctx context.Context, ls []webhook.Lease) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	select {
	case <-s.unblock:
	case <-time.After(20 * time.Second):
		s.mu.Lock()
		s.timedOut = true
		s.mu.Unlock()
	}
	return s.Store.Release(ctx, ls)
}

// A worker that finishes an attempt, takes the next waiting delivery F and
// passes a stale one on its way starts F before it gives the stale one
// back: F's start must not wait for the Store, because staleAfter counts on
// an attempt starting as soon as it is taken. Here Release does not
// return until F has been received.
func TestNextAttemptStartsBeforeStaleClaimsAreReleased(t *testing.T) {
	clk := newTestClock()
	store := &blockedRelease{Store: memstore.New(), unblock: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-store.unblock:
		default:
			close(store.unblock)
		}
	})
	d := webhooktest.StartDispatcher(t, store, &webhook.Config{Clock: clk.Now, PollInterval: 5 * time.Millisecond, Workers: 2})
	ctx := context.Background()
	gate := make(chan struct{})
	var gateOnce sync.Once
	t.Cleanup(func() { gateOnce.Do(func() { close(gate) }) })
	slow := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, n int) {
		<-gate
		w.WriteHeader(http.StatusOK)
	}))
	limited, next := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t)
	mk := func(url, ev string, rl webhook.RateLimit) {
		_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: url, Events: []string{ev}, RateLimit: rl})
		require.NoError(t, err)
	}
	mk(slow.URL(), "slow.x", webhook.RateLimit{})
	mk(limited.URL(), "limited.x", webhook.RateLimit{PerSecond: 2, Burst: 1})
	mk(next.URL(), "next.x", webhook.RateLimit{})
	_, err := d.Publish(ctx, webhook.Event{Type: "slow.x"}) // holds worker 1
	require.NoError(t, err)
	eventually(t, func() bool { return slow.Len() == 1 }, "first slow attempt running")
	_, err = d.PublishMany(ctx, []webhook.Event{{Type: "limited.x"}, {Type: "limited.x"}}) // one goes, one waits for its token
	require.NoError(t, err)
	holds(t, limited, 1, "one limited delivery sent, the other waits for its token")
	_, err = d.Publish(ctx, webhook.Event{Type: "slow.x"}) // holds worker 2
	require.NoError(t, err)
	eventually(t, func() bool { return slow.Len() == 2 }, "second slow attempt running")
	clk.Advance(45 * time.Second)                          // the waiting limited delivery is stale now (staleAfter 40 s)
	_, err = d.Publish(ctx, webhook.Event{Type: "next.x"}) // F: waits for a worker
	require.NoError(t, err)
	holds(t, next, 0, "no worker is free")
	gateOnce.Do(func() { close(gate) }) // a worker frees: it takes F and drops the stale one
	eventually(t, func() bool { return next.Len() == 1 }, "F sent while the stale claim's Release is still blocked")
	close(store.unblock)
	store.mu.Lock()
	defer store.mu.Unlock()
	require.False(t, store.timedOut, "F was sent only after Release returned")
	require.NotZero(t, store.calls, "the stale claim was given back")
}
