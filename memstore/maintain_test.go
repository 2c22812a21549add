package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/sqlstore"
)

var _ webhook.Maintainer = (*memstore.Store)(nil)

// retention is the Options.Retention of the stores these tests make.
const retention = time.Hour

// harness is a Store driven the way the Dispatcher drives it, with the
// time passed in.
type harness struct {
	t   testing.TB
	ctx context.Context
	s   *memstore.Store
}

func newHarness(t testing.TB, opts *memstore.Options) *harness {
	t.Helper()
	if opts == nil {
		opts = &memstore.Options{Retention: retention}
	}
	return &harness{t: t, ctx: context.Background(), s: memstore.NewWithOptions(opts)}
}

// endpoint creates an endpoint with a secret that never expires.
func (h *harness) endpoint(id string) {
	h.t.Helper()
	ep := &webhook.Endpoint{ID: id, TenantID: "acme", URL: "https://example.com/" + id, CreatedAt: t0}
	require.NoError(h.t, h.s.CreateEndpoint(h.ctx, ep, webhook.Secret{Value: "whsec_" + id + "1", CreatedAt: t0}, 0))
}

// publish enqueues event id at now with a delivery "id>ep" to each of
// endpoints, due at once.
func (h *harness) publish(id string, now time.Time, endpoints ...string) error {
	h.t.Helper()
	ev := &webhook.StoredEvent{ID: id, Type: "post.created", TenantID: "acme", CreatedAt: now, Body: make([]byte, 1024)}
	var ds []*webhook.Delivery
	for _, ep := range endpoints {
		ds = append(ds, &webhook.Delivery{ID: id + ">" + ep, EventID: id, EventType: ev.Type, TenantID: "acme", EndpointID: ep,
			State: webhook.StatePending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
	}
	return h.s.Enqueue(h.ctx, ev, ds)
}

// claim leases every delivery due at now.
func (h *harness) claim(now time.Time) []*webhook.Claim {
	h.t.Helper()
	cs, err := h.s.Claim(h.ctx, webhook.ClaimParams{Now: now, Lease: time.Minute, Limit: 1 << 20})
	require.NoError(h.t, err)
	return cs
}

// complete records an attempt of c with outcome at now; a retry is due a
// minute later.
func (h *harness) complete(c *webhook.Claim, outcome webhook.Outcome, now time.Time) {
	h.t.Helper()
	_, _, err := h.s.Complete(h.ctx, webhook.Completion{
		DeliveryID: c.Delivery.ID, Token: c.Token, Outcome: outcome, Now: now, RetryAt: now.Add(time.Minute),
		Attempt: &webhook.Attempt{ID: fmt.Sprintf("%s#%d", c.Delivery.ID, c.Delivery.Attempts+1), DeliveryID: c.Delivery.ID,
			Number: c.Delivery.Attempts + 1, StartedAt: now, StatusCode: 500, Error: "HTTP 500", ResponseBody: "oops"},
	})
	require.NoError(h.t, err)
}

// deliver claims what is due at now and completes all of it with outcome.
func (h *harness) deliver(now time.Time, outcome webhook.Outcome) {
	h.t.Helper()
	for _, c := range h.claim(now) {
		h.complete(c, outcome, now)
	}
}

func (h *harness) maintain(now time.Time) {
	h.t.Helper()
	require.NoError(h.t, h.s.Maintain(h.ctx, now))
	require.NoError(h.t, h.s.Check())
}

// has reports whether the delivery is stored, and checks that its
// attempts and its event are readable when it is.
func (h *harness) has(deliveryID string) bool {
	h.t.Helper()
	d, err := h.s.GetDelivery(h.ctx, deliveryID)
	if err != nil {
		require.ErrorIs(h.t, err, webhook.ErrNotFound)
		_, err = h.s.ListAttempts(h.ctx, deliveryID)
		require.ErrorIs(h.t, err, webhook.ErrNotFound, "attempts of a deleted delivery")
		return false
	}
	_, err = h.s.ListAttempts(h.ctx, deliveryID)
	require.NoError(h.t, err)
	_, err = h.s.GetEvent(h.ctx, d.EventID)
	require.NoError(h.t, err, "the event of a stored delivery")
	return true
}

// hasEvent reports whether the event is stored.
func (h *harness) hasEvent(id string) bool {
	h.t.Helper()
	_, err := h.s.GetEvent(h.ctx, id)
	if err != nil {
		require.ErrorIs(h.t, err, webhook.ErrNotFound)
		return false
	}
	return true
}

func TestDefaultsAreSqlstores(t *testing.T) {
	assert.Equal(t, sqlstore.RetentionDefault, memstore.RetentionDefault)
	assert.Equal(t, sqlstore.PruneBatchDefault, memstore.PruneBatchDefault)

	for name, s := range map[string]*memstore.Store{"New": memstore.New(), "NewWithOptions(nil)": memstore.NewWithOptions(nil), "zero Options": memstore.NewWithOptions(&memstore.Options{})} {
		t.Run(name, func(t *testing.T) {
			h := &harness{t: t, ctx: context.Background(), s: s}
			h.endpoint("ep")
			require.NoError(t, h.publish("ev", t0, "ep"))
			h.deliver(t0, webhook.OutcomeSuccess)
			h.maintain(t0.Add(memstore.RetentionDefault))
			assert.True(t, h.has("ev>ep"), "kept for RetentionDefault")
			h.maintain(t0.Add(memstore.RetentionDefault + time.Nanosecond))
			assert.False(t, h.has("ev>ep"), "pruned after RetentionDefault")
			assert.False(t, h.hasEvent("ev"))
		})
	}
}

// Ended deliveries go, with their attempts and their event, once they were
// last updated more than Retention ago: not a nanosecond before, as in
// sqlstore (updated_at < now - retention).
func TestMaintainPrunesEndedDeliveriesAfterRetention(t *testing.T) {
	t1 := t0.Add(time.Minute)
	for _, tc := range []struct {
		name string
		end  func(h *harness) // ends delivery "ev>ep" at t1
	}{
		{"succeeded", func(h *harness) {
			require.NoError(h.t, h.publish("ev", t0, "ep"))
			h.deliver(t1, webhook.OutcomeSuccess)
		}},
		{"failed", func(h *harness) {
			require.NoError(h.t, h.publish("ev", t0, "ep"))
			h.deliver(t1, webhook.OutcomeFail)
		}},
		{"failed after a retry", func(h *harness) {
			require.NoError(h.t, h.publish("ev", t0, "ep"))
			h.deliver(t0, webhook.OutcomeRetry)
			for _, c := range h.claim(t1) {
				h.complete(c, webhook.OutcomeFail, t1)
			}
		}},
		{"ended by DisableEndpoint", func(h *harness) {
			require.NoError(h.t, h.publish("ev", t0, "ep"))
			require.NoError(h.t, h.s.DisableEndpoint(h.ctx, "ep", "by hand", t1))
		}},
		{"failed at Enqueue, endpoint disabled", func(h *harness) {
			require.NoError(h.t, h.s.DisableEndpoint(h.ctx, "ep", "by hand", t0))
			require.NoError(h.t, h.publish("ev", t1, "ep"))
		}},
		{"failed at Enqueue, no such endpoint", func(h *harness) {
			require.NoError(h.t, h.s.DeleteEndpoint(h.ctx, "ep"))
			require.NoError(h.t, h.publish("ev", t1, "ep"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.endpoint("ep")
			tc.end(h)
			d, err := h.s.GetDelivery(h.ctx, "ev>ep")
			require.NoError(t, err)
			require.NotEqual(t, webhook.StatePending, d.State)
			require.Equal(t, t1, d.UpdatedAt)

			h.maintain(t1.Add(retention))
			assert.True(t, h.has("ev>ep"), "kept until Retention has passed")
			assert.True(t, h.hasEvent("ev"))

			h.maintain(t1.Add(retention + time.Nanosecond))
			assert.False(t, h.has("ev>ep"), "pruned once Retention has passed")
			assert.False(t, h.hasEvent("ev"), "the event goes with its last delivery")
			page, _, err := h.s.ListDeliveries(h.ctx, webhook.DeliveryFilter{})
			require.NoError(t, err)
			assert.Empty(t, page)
			z := h.s.Sizes()
			assert.Zero(t, z.Events+z.Deliveries+z.Attempts+z.EventDeliveries+z.EndpointDeliveries+z.Ended+z.Empty, "%+v", z)
		})
	}
}

// Pending deliveries are never pruned, however old, leased or not; nor
// are their events.
func TestMaintainNeverPrunesPending(t *testing.T) {
	h := newHarness(t, nil)
	h.endpoint("ep")
	require.NoError(t, h.publish("leased", t0, "ep"))
	require.NoError(t, h.publish("retrying", t0, "ep"))
	for _, c := range h.claim(t0) {
		if c.Delivery.EventID == "retrying" {
			h.complete(c, webhook.OutcomeRetry, t0)
		}
	}
	require.NoError(t, h.publish("waiting", t0, "ep")) // never claimed

	h.maintain(t0.Add(100 * 24 * 365 * time.Hour))
	for _, ev := range []string{"waiting", "leased", "retrying"} {
		assert.True(t, h.has(ev+">ep"), ev)
		assert.True(t, h.hasEvent(ev), ev)
	}
}

// An event stays while any of its deliveries does, and goes with the last.
func TestMaintainKeepsEventUntilItsLastDeliveryGoes(t *testing.T) {
	h := newHarness(t, nil)
	h.endpoint("a")
	h.endpoint("b")
	require.NoError(t, h.publish("ev", t0, "a", "b"))
	for _, c := range h.claim(t0) {
		outcome := webhook.OutcomeSuccess
		if c.Delivery.EndpointID == "b" {
			outcome = webhook.OutcomeRetry
		}
		h.complete(c, outcome, t0)
	}
	t1 := t0.Add(retention + time.Nanosecond)
	h.maintain(t1)
	assert.False(t, h.has("ev>a"))
	assert.True(t, h.has("ev>b"))
	assert.True(t, h.hasEvent("ev"))
	page, _, err := h.s.ListDeliveries(h.ctx, webhook.DeliveryFilter{EventID: "ev"})
	require.NoError(t, err)
	require.Len(t, page, 1)
	assert.Equal(t, "ev>b", page[0].ID)

	h.deliver(t1, webhook.OutcomeSuccess)
	h.maintain(t1.Add(retention))
	assert.True(t, h.hasEvent("ev"))
	h.maintain(t1.Add(retention + time.Nanosecond))
	assert.False(t, h.has("ev>b"))
	assert.False(t, h.hasEvent("ev"))
}

// Once pruned, an event ID (and its delivery IDs) can be used again, as in
// sqlstore; until then it is a duplicate.
func TestPrunedEventIDIsNewAgain(t *testing.T) {
	h := newHarness(t, nil)
	h.endpoint("ep")
	require.NoError(t, h.publish("ev", t0, "ep"))
	h.deliver(t0, webhook.OutcomeSuccess)

	h.maintain(t0.Add(retention))
	require.ErrorIs(t, h.publish("ev", t0.Add(retention), "ep"), webhook.ErrDuplicateEvent)

	t1 := t0.Add(retention + time.Nanosecond)
	h.maintain(t1)
	require.NoError(t, h.publish("ev", t1, "ep"), "the same event and delivery IDs again")
	d, err := h.s.GetDelivery(h.ctx, "ev>ep")
	require.NoError(t, err)
	assert.Equal(t, webhook.StatePending, d.State)
	assert.Zero(t, d.Attempts)
	as, err := h.s.ListAttempts(h.ctx, "ev>ep")
	require.NoError(t, err)
	assert.Empty(t, as, "no attempts of the pruned delivery")
}

// An event published when no endpoint subscribed has no deliveries: it is
// kept, and its ID taken, for Retention from its CreatedAt, as sqlstore
// keeps it.
func TestEventWithoutDeliveriesIsKeptForRetention(t *testing.T) {
	h := newHarness(t, nil)
	require.NoError(t, h.publish("ev", t0))

	h.maintain(t0.Add(retention))
	assert.True(t, h.hasEvent("ev"))
	require.ErrorIs(t, h.publish("ev", t0.Add(retention)), webhook.ErrDuplicateEvent)

	h.maintain(t0.Add(retention + time.Nanosecond))
	assert.False(t, h.hasEvent("ev"))
	require.NoError(t, h.publish("ev", t0.Add(retention)))
}

// DeleteEndpoint removes the endpoint's deliveries at once; the events it
// leaves without deliveries stay findable (and duplicates) until they are
// older than Retention, and then Maintain removes them and their bodies:
// nothing is left behind.
func TestDeleteEndpointLeavesNoOrphans(t *testing.T) {
	h := newHarness(t, nil)
	h.endpoint("a")
	h.endpoint("b")
	require.NoError(t, h.publish("only-a", t0, "a"))
	require.NoError(t, h.publish("both", t0, "a", "b"))
	require.NoError(t, h.publish("only-a-delivered", t0, "a"))
	for _, c := range h.claim(t0) {
		switch c.Delivery.ID {
		case "only-a-delivered>a":
			h.complete(c, webhook.OutcomeSuccess, t0)
		case "both>b":
			h.complete(c, webhook.OutcomeRetry, t0) // pending at b for now
		}
	}
	require.NoError(t, h.s.DeleteEndpoint(h.ctx, "a"))

	for _, id := range []string{"only-a>a", "both>a", "only-a-delivered>a"} {
		assert.False(t, h.has(id), id)
	}
	for _, ev := range []string{"only-a", "both", "only-a-delivered"} {
		assert.True(t, h.hasEvent(ev), "%s: kept until Retention, for duplicate detection", ev)
	}
	require.ErrorIs(t, h.publish("only-a", t0, "b"), webhook.ErrDuplicateEvent)
	require.NoError(t, h.s.Check())
	z := h.s.Sizes()
	assert.Equal(t, 1, z.Deliveries, "%+v", z)
	assert.Equal(t, 1, z.EventDeliveries, "%+v", z)
	assert.Equal(t, 2, z.Empty, "%+v", z)

	t1 := t0.Add(retention + time.Nanosecond)
	h.maintain(t1)
	assert.False(t, h.hasEvent("only-a"))
	assert.False(t, h.hasEvent("only-a-delivered"))
	assert.True(t, h.hasEvent("both"), "b's delivery of it is still pending")
	require.NoError(t, h.publish("only-a", t1, "b"), "a pruned event's ID is new again")

	h.deliver(t1.Add(time.Minute), webhook.OutcomeSuccess) // both>b and only-a>b
	require.NoError(t, h.s.DeleteEndpoint(h.ctx, "b"))
	h.maintain(t1.Add(retention + time.Nanosecond))
	z = h.s.Sizes()
	assert.Equal(t, memstore.Sizes{}, z, "nothing left once both endpoints are gone and Retention has passed")
}

// A Requeue makes an ended delivery pending again: it is not pruned while
// pending, and its retention counts from when it ends again.
func TestRequeuedDeliveryIsPrunedFromItsNewEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    webhook.RequeueParams
	}{
		{"Redeliver", webhook.RequeueParams{DeliveryID: "ev>ep"}},
		{"Recover", webhook.RequeueParams{EndpointID: "ep"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.endpoint("ep")
			require.NoError(t, h.publish("ev", t0, "ep"))
			h.deliver(t0, webhook.OutcomeFail)

			t1 := t0.Add(retention / 2)
			p := tc.p
			p.Now = t1
			n, err := h.s.Requeue(h.ctx, p)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			h.maintain(t0.Add(retention + time.Nanosecond))
			assert.True(t, h.has("ev>ep"), "pending again")

			t2 := t0.Add(2 * retention)
			h.deliver(t2, webhook.OutcomeSuccess)
			h.maintain(t2.Add(retention))
			assert.True(t, h.has("ev>ep"), "ended again at t2")
			h.maintain(t2.Add(retention + time.Nanosecond))
			assert.False(t, h.has("ev>ep"))
			assert.False(t, h.hasEvent("ev"))
		})
	}
}

// A negative Retention keeps everything, secrets past their grace period
// included, as in sqlstore.
func TestNegativeRetentionKeepsEverything(t *testing.T) {
	h := newHarness(t, &memstore.Options{Retention: -1})
	h.endpoint("ep")
	require.NoError(t, h.publish("ev", t0, "ep"))
	require.NoError(t, h.publish("nobody", t0))
	h.deliver(t0, webhook.OutcomeSuccess)
	require.NoError(t, h.s.RotateSecret(h.ctx, "ep", webhook.Secret{Value: "whsec_ep2", CreatedAt: t0}, t0.Add(time.Hour)))
	before := h.s.Sizes()

	h.maintain(t0.Add(100 * 24 * 365 * time.Hour))
	assert.True(t, h.has("ev>ep"))
	assert.True(t, h.hasEvent("nobody"))
	assert.Equal(t, before, h.s.Sizes())
}

// Maintain drops the secrets whose grace period is over (ExpiresAt at or
// before now), as sqlstore does.
func TestMaintainDropsExpiredSecrets(t *testing.T) {
	h := newHarness(t, nil)
	h.endpoint("ep")
	rotated := t0.Add(time.Hour)
	require.NoError(t, h.s.RotateSecret(h.ctx, "ep", webhook.Secret{Value: "whsec_ep2", CreatedAt: rotated}, rotated.Add(time.Hour)))
	ids := func() []string {
		// At rotation time both are active unless one was dropped.
		secs, err := h.s.EndpointSecrets(h.ctx, "ep", rotated)
		require.NoError(t, err)
		var out []string
		for _, s := range secs {
			out = append(out, s.Value)
		}
		return out
	}
	h.maintain(rotated.Add(time.Hour - time.Nanosecond))
	assert.Equal(t, []string{"whsec_ep2", "whsec_ep1"}, ids())
	assert.Equal(t, 1, h.s.Sizes().Expiring)

	h.maintain(rotated.Add(time.Hour))
	assert.Equal(t, []string{"whsec_ep2"}, ids())
	z := h.s.Sizes()
	assert.Equal(t, 1, z.Secrets)
	assert.Zero(t, z.Expiring, "nothing left to expire")
}

// Prune works in batches of PruneBatch, at most 200 of them per call, as in
// sqlstore; the next call goes on where it stopped.
func TestPruneBatches(t *testing.T) {
	h := newHarness(t, &memstore.Options{Retention: retention, PruneBatch: 3})
	h.endpoint("ep")
	require.NoError(t, h.s.DisableEndpoint(h.ctx, "ep", "by hand", t0))
	for i := 0; i < 700; i++ {
		require.NoError(t, h.publish(fmt.Sprint("ev", i), t0.Add(time.Duration(i)), "ep")) // failed at once
	}
	cutoff := t0.Add(time.Hour)

	n, err := h.s.Prune(h.ctx, cutoff)
	require.NoError(t, err)
	assert.Equal(t, 600, n)
	require.NoError(t, h.s.Check())
	z := h.s.Sizes()
	assert.Equal(t, 100, z.Deliveries)
	assert.Equal(t, 100, z.Events)
	assert.False(t, h.has("ev599>ep"))
	assert.True(t, h.has("ev600>ep"), "oldest first")

	n, err = h.s.Prune(h.ctx, cutoff)
	require.NoError(t, err)
	assert.Equal(t, 100, n)
	require.NoError(t, h.s.Check())
	z = h.s.Sizes()
	assert.Zero(t, z.Deliveries)
	assert.Zero(t, z.Events)

	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	_, err = h.s.Prune(ctx, cutoff)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, h.s.Maintain(ctx, cutoff), context.Canceled)
}

// A long-running process stays flat: a steady stream of events, delivered
// (some after retries, some failing), some with no subscriber, to
// endpoints of which one is deleted and created again now and then, with
// Maintain every simulated minute, holds only what the last Retention
// produced. This is the 2-minute soak at 5 events/s that grew memstore's
// heap 3x, in simulated time.
func TestLongRunningStoreStaysFlat(t *testing.T) {
	const (
		rounds   = 6000 // one event per simulated second: 100 minutes
		window   = 10 * time.Minute
		interval = time.Minute
	)
	h := newHarness(t, &memstore.Options{Retention: window})
	h.endpoint("ok")
	h.endpoint("flaky")
	h.endpoint("churn")
	var (
		peak   memstore.Sizes
		heapAt = map[int]uint64{}
	)
	for i := 0; i < rounds; i++ {
		now := t0.Add(time.Duration(i) * time.Second)
		endpoints := []string{"ok", "flaky", "churn"}
		if i%7 == 0 {
			endpoints = nil // nobody subscribed
		}
		require.NoError(t, h.publish(fmt.Sprint("ev", i), now, endpoints...))
		for _, c := range h.claim(now) {
			outcome := webhook.OutcomeSuccess
			if c.Delivery.EndpointID == "flaky" {
				outcome = webhook.OutcomeRetry // due a minute later
				if c.Delivery.Attempts > 0 {
					outcome = webhook.OutcomeFail
				}
			}
			h.complete(c, outcome, now)
		}
		if i%500 == 499 {
			require.NoError(t, h.s.DeleteEndpoint(h.ctx, "churn"))
			h.endpoint("churn")
		}
		if i%int(interval/time.Second) == 0 {
			h.maintain(now)
		}
		if i >= rounds/3 && i%int(interval/time.Second) == int(interval/time.Second)-1 { // just before Maintain, past the warm-up
			z := h.s.Sizes()
			peak.Events = max(peak.Events, z.Events)
			peak.Deliveries = max(peak.Deliveries, z.Deliveries)
			peak.Attempts = max(peak.Attempts, z.Attempts)
		}
		if i == rounds/3 || i == rounds-1 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heapAt[i] = ms.HeapAlloc
		}
	}
	// What the window (plus one maintenance interval) holds: an event a
	// second, three deliveries for 6 in 7 of them, four attempts.
	perWindow := int((window + interval + time.Minute) / time.Second)
	assert.LessOrEqual(t, peak.Events, perWindow, "%+v", peak)
	assert.LessOrEqual(t, peak.Deliveries, 3*perWindow, "%+v", peak)
	assert.LessOrEqual(t, peak.Attempts, 4*perWindow, "%+v", peak)
	// Loosely: 4000 more events with 1 KiB bodies, kept, would be well
	// over 8 MiB more.
	grew := int64(heapAt[rounds-1]) - int64(heapAt[rounds/3])
	t.Logf("peak after warm-up %+v; heap %d KiB then %d KiB", peak, heapAt[rounds/3]>>10, heapAt[rounds-1]>>10)
	assert.Less(t, grew, int64(2<<20), "the heap grew by %d KiB", grew>>10)

	// Once everything ended and Retention has passed, nothing is left but
	// the endpoints.
	end := t0.Add(rounds * time.Second)
	h.deliver(end.Add(time.Hour), webhook.OutcomeSuccess)
	h.maintain(end.Add(time.Hour + window + time.Nanosecond))
	z := h.s.Sizes()
	assert.Equal(t, memstore.Sizes{Endpoints: 3, Tenants: 1, Secrets: 3}, z)
}

// Maintain runs while publishers and workers go on (-race), and the
// Store's structures stay consistent.
func TestMaintainConcurrently(t *testing.T) {
	h := newHarness(t, &memstore.Options{Retention: time.Nanosecond, PruneBatch: 7})
	h.endpoint("a")
	h.endpoint("b")
	var publishers, maintainer sync.WaitGroup
	for w := 0; w < 2; w++ {
		publishers.Add(1)
		go func() {
			defer publishers.Done()
			for i := 0; i < 300; i++ {
				now := t0.Add(time.Duration(i) * time.Second)
				if err := h.publish(fmt.Sprintf("ev%d-%d", w, i), now, "a", "b"); err != nil {
					t.Error(err)
					return
				}
				cs, err := h.s.Claim(h.ctx, webhook.ClaimParams{Now: now, Lease: time.Minute, Limit: 10})
				if err != nil {
					t.Error(err)
					return
				}
				for _, c := range cs {
					_, _, err := h.s.Complete(h.ctx, webhook.Completion{DeliveryID: c.Delivery.ID, Token: c.Token,
						Outcome: webhook.OutcomeSuccess, Now: now, Attempt: &webhook.Attempt{Number: 1}})
					// The other publisher's Claim, later in time, may have
					// taken the delivery over.
					if err != nil && !errors.Is(err, webhook.ErrLeaseLost) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	maintainer.Add(1)
	go func() {
		defer maintainer.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := h.s.Maintain(h.ctx, t0.Add(time.Hour)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	publishers.Wait()
	close(done)
	maintainer.Wait()
	require.NoError(t, h.s.Check())
	h.deliver(t0.Add(time.Hour), webhook.OutcomeSuccess)
	h.maintain(t0.Add(2 * time.Hour))
	assert.Equal(t, memstore.Sizes{Endpoints: 2, Tenants: 1, Secrets: 2}, h.s.Sizes())
}

// The Dispatcher finds the Maintainer and calls Maintain with its clock:
// a delivered event is gone once its clock is past Retention.
func TestDispatcherMaintainsStore(t *testing.T) {
	ctx := context.Background()
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer receiver.Close()
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	s := memstore.NewWithOptions(&memstore.Options{Retention: retention})
	d, err := webhook.NewDispatcher(s, &webhook.Config{
		AllowPrivateNetworks: true,
		PollInterval:         5 * time.Millisecond,
		MaintenanceInterval:  5 * time.Millisecond,
		Clock:                func() time.Time { return time.Unix(0, clock.Load()).UTC() },
	})
	require.NoError(t, err)
	require.NoError(t, d.Start(ctx))
	defer func() { require.NoError(t, d.Shutdown(ctx)) }()

	_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: receiver.URL})
	require.NoError(t, err)
	ev, err := d.Publish(ctx, webhook.Event{ID: "ev", Type: "post.created", TenantID: "acme", Data: 1})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		page, _, err := s.ListDeliveries(ctx, webhook.DeliveryFilter{EventID: ev.ID, State: webhook.StateSucceeded})
		return err == nil && len(page) == 1
	}, 10*time.Second, 5*time.Millisecond)
	_, err = s.GetEvent(ctx, ev.ID)
	require.NoError(t, err, "kept within Retention")

	clock.Add(int64(retention + time.Second))
	require.Eventually(t, func() bool {
		_, err := s.GetEvent(ctx, ev.ID)
		return errors.Is(err, webhook.ErrNotFound)
	}, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, memstore.Sizes{Endpoints: 1, Tenants: 1, Secrets: 1}, s.Sizes())
}
