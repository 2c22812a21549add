package webhook_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// heldAhead publishes two events to a new endpoint limited to 2/s with a
// burst of 1 on f, whose clock clk stands still: the first is sent, the
// second is claimed ahead with the next token (Claim.NotBefore, 500 ms
// away) and waits in the Dispatcher. It returns the endpoint and its
// receiver.
func heldAhead(t *testing.T, f *fixture) (*webhook.Endpoint, *webhooktest.Receiver) {
	t.Helper()
	rc := webhooktest.NewReceiver(t)
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL(), RateLimit: webhook.RateLimit{PerSecond: 2, Burst: 1}})
	// One batch, so that one Claim finds both: the second with its token
	// ahead (Claim.NotBefore).
	_, err := f.d.PublishMany(context.Background(), []webhook.Event{{Type: "post.created"}, {Type: "post.created"}})
	require.NoError(t, err)
	holds(t, rc, 1, "the first goes; the second waits claimed for its token")
	ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID, State: webhook.StatePending})
	require.Len(t, ds, 1)
	return ep, rc
}

// A delivery claimed ahead and then dropped because its endpoint was
// updated is given back to the Store (webhook.Releaser) and sent with
// the new settings as soon as its token is due, not once its lease
// (Config.Lease, 2 minutes) has ended.
func TestUpdateReleasesClaimedAhead(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) { c.Clock = clk.Now })
	ep, rc := heldAhead(t, f)
	_, err := f.d.UpdateEndpoint(context.Background(), ep.ID, webhook.EndpointParams{
		URL: ep.URL, RateLimit: ep.RateLimit, Headers: http.Header{"X-Version": {"2"}},
	})
	require.NoError(t, err)
	clk.Advance(time.Second) // the next tokens are due; the lease is far from over
	eventually(t, func() bool { return rc.Len() == 2 }, "sent again at once, not after its lease")
	assert.Equal(t, "2", rc.Requests()[1].Header.Get("X-Version"), "with the endpoint as it is now")
	holds(t, rc, 2, "once")
}

// At Shutdown, a delivery claimed ahead that may not start yet (it waits
// for its rate-limit token) is not waited for but given back: a second
// Dispatcher on the Store sends it when its token is due, not once its
// lease has ended.
func TestShutdownReleasesClaimedAhead(t *testing.T) {
	clk := newTestClock()
	cfg := func(c *webhook.Config) { c.Clock = clk.Now }
	f := setup(t, cfg)
	_, rc := heldAhead(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), webhooktest.ShutdownTimeout)
	defer cancel()
	require.NoError(t, f.d.Shutdown(ctx), "Shutdown does not wait for a token that is not due")
	holds(t, rc, 1, "nothing more after Shutdown")

	next := webhook.Config{Clock: clk.Now, PollInterval: 5 * time.Millisecond}
	webhooktest.StartDispatcher(t, f.store, &next)
	clk.Advance(time.Second)
	eventually(t, func() bool { return rc.Len() == 2 }, "the next Dispatcher sends it at once")
	holds(t, rc, 2, "once")
}

// A delivery claimed ahead that waited for a place longer than it may
// (half of what its lease leaves beyond the request: 40 s by default) is
// not sent under that lease but given back, and so claimed and sent again
// at once rather than once its lease has ended.
func TestStaleClaimIsReleased(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) { c.Clock = clk.Now })
	_, rc := heldAhead(t, f)
	clk.Advance(45 * time.Second) // stale; the lease (2 min) is not over
	eventually(t, func() bool { return rc.Len() == 2 }, "claimed again and sent at once")
	holds(t, rc, 2, "once")
}

// releaseSpy is a memstore that remembers the deliveries whose leases
// were given back.
type releaseSpy struct {
	*memstore.Store
	mu       sync.Mutex
	released []string
}

func (s *releaseSpy) Release(ctx context.Context, leases []webhook.Lease) error {
	s.mu.Lock()
	for _, l := range leases {
		s.released = append(s.released, l.DeliveryID)
	}
	s.mu.Unlock()
	return s.Store.Release(ctx, leases)
}

func (s *releaseSpy) wasReleased(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.released, id)
}

// A delivery claimed ahead is given back also when an attempt's failure
// disables its endpoint, though the disable ends the endpoint's pending
// deliveries: on PostgreSQL one published while the disabling transaction
// was open is not ended by it, and may have been claimed meanwhile; only
// dropped, it would stay leased, and unsent, until its lease ended.
func TestAutoDisableReleasesClaimedAhead(t *testing.T) {
	store := &releaseSpy{Store: memstore.New()}
	d := webhooktest.StartDispatcher(t, store, &webhook.Config{
		PollInterval: 5 * time.Millisecond, MaxInFlightPerEndpoint: 1, DisableAfter: 1,
	})
	rc := webhooktest.NewReceiver(t, webhooktest.WithStatus(http.StatusInternalServerError))
	ctx := context.Background()
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rc.URL(), MaxAttempts: 1})
	require.NoError(t, err)
	// One batch, so that one Claim takes both: the first is sent, the
	// second waits claimed ahead (the first's failure keeps the
	// endpoint's one place until it is recorded, and disables it).
	_, err = d.PublishMany(ctx, []webhook.Event{{Type: "post.created", TenantID: "acme"}, {Type: "post.created", TenantID: "acme"}})
	require.NoError(t, err)
	eventually(t, func() bool {
		got, err := d.GetEndpoint(ctx, ep.ID)
		return err == nil && got.Disabled
	}, "the first failure disables the endpoint")
	page, _, err := d.ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: ep.ID})
	require.NoError(t, err)
	require.Len(t, page, 2)
	var second string
	for _, dl := range page {
		if dl.Attempts == 0 {
			second = dl.ID
		}
	}
	require.NotEmpty(t, second, "one delivery was never attempted")
	eventually(t, func() bool { return store.wasReleased(second) }, "the delivery claimed ahead is given back")
	assert.Equal(t, 1, rc.Len(), "nothing sent after the disable")
}

// heldClaim is a memstore whose Claim, once armed, waits after its
// leases are taken until the test lets it return: the window in which a
// Dispatcher may change an endpoint whose deliveries the Claim has just
// read.
type heldClaim struct {
	*memstore.Store
	armed   chan struct{} // closed: the next Claim that leases something waits
	claimed chan struct{} // closed by that Claim once it has leased
	proceed chan struct{} // closed by the test: it returns
	once    sync.Once
}

func (s *heldClaim) Claim(ctx context.Context, p webhook.ClaimParams) ([]*webhook.Claim, error) {
	cs, err := s.Store.Claim(ctx, p)
	select {
	case <-s.armed:
		if len(cs) > 0 {
			s.once.Do(func() {
				close(s.claimed)
				<-s.proceed
			})
		}
	default:
	}
	return cs, err
}

// A delivery whose Claim is still on its way back from the Store when its
// endpoint is updated read the old settings: it is given back and sent
// with the new ones, like one already waiting in the Dispatcher, not sent
// to the old URL.
func TestEndpointUpdatedWhileClaimIsOnItsWay(t *testing.T) {
	store := &heldClaim{Store: memstore.New(), armed: make(chan struct{}), claimed: make(chan struct{}), proceed: make(chan struct{})}
	d := webhooktest.StartDispatcher(t, store, &webhook.Config{PollInterval: 5 * time.Millisecond})
	before, after := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t)
	ctx := context.Background()
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: before.URL()})
	require.NoError(t, err)

	close(store.armed)
	_, err = d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "acme"})
	require.NoError(t, err)
	select {
	case <-store.claimed:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery was not claimed")
	}
	_, err = d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: after.URL()})
	require.NoError(t, err)
	close(store.proceed)

	eventually(t, func() bool { return after.Len() == 1 }, "sent to the endpoint's new URL")
	assert.Equal(t, 0, before.Len(), "nothing sent to the old URL")
}
