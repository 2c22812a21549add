package webhook_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

func TestOrderedNeedsTheStoreAbility(t *testing.T) {
	ctx := context.Background()
	store := plainStore{memstore.New()}
	d, err := webhook.NewDispatcher(store, &webhook.Config{})
	require.NoError(t, err)
	_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "t", URL: "https://example.com/", Ordered: true})
	assert.ErrorIs(t, err, webhook.ErrNotSupported)
	eps, err := d.ListEndpoints(ctx, "t")
	require.NoError(t, err)
	assert.Empty(t, eps, "nothing stored")
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "t", URL: "https://example.com/"})
	require.NoError(t, err)
	_, err = d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: "https://example.com/", Ordered: true})
	assert.ErrorIs(t, err, webhook.ErrNotSupported)
}

// TestOrderedDeliveryHoldsBackBehindAFailingHead: with an injected clock,
// the first of three events fails and waits an hour for its retry; the
// other two wait behind it (the log says for what), then all three arrive
// in publish order.
func TestOrderedDeliveryHoldsBackBehindAFailingHead(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var offset atomic.Int64
	now := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	f := setup(t, func(c *webhook.Config) {
		c.Clock = now
		c.Retry = webhook.FixedSchedule(time.Hour, time.Hour, time.Hour)
	})
	rcv := webhooktest.NewReceiver(t, webhooktest.WithResponder(webhooktest.Sequence(
		webhooktest.Status(http.StatusInternalServerError), webhooktest.Status(http.StatusNoContent))))
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rcv.URL(), Ordered: true})
	assert.True(t, ep.Ordered)
	var evs []webhook.Event
	for i := 0; i < 3; i++ {
		evs = append(evs, f.publish(t, webhook.Event{Type: "post.created", Data: i}))
	}
	rcv.WaitFor(t, 1, 10*time.Second)
	var head *webhook.Delivery
	eventually(t, func() bool {
		ds := f.deliveries(t, webhook.DeliveryFilter{EventID: evs[0].ID})
		head = ds[0]
		return len(ds) == 1 && head.Attempts == 1
	}, "the head's first attempt is recorded")
	time.Sleep(50 * time.Millisecond) // the dispatcher polls every 5 ms: time for a wrong claim
	assert.Equal(t, 1, rcv.Len(), "nothing overtakes the head waiting for its retry")
	for _, ev := range evs[1:] {
		ds := f.deliveries(t, webhook.DeliveryFilter{EventID: ev.ID})
		require.Len(t, ds, 1)
		assert.Equal(t, head.ID, ds[0].BlockedBy, "the log says what it waits for")
		assert.Zero(t, ds[0].Attempts)
	}

	offset.Store(int64(time.Hour + time.Second)) // the retry is due
	got := rcv.WaitFor(t, 4, 10*time.Second)
	var order []string
	for _, r := range got {
		order = append(order, r.EventID)
	}
	assert.Equal(t, []string{evs[0].ID, evs[0].ID, evs[1].ID, evs[2].ID}, order, "publish order, the head retried first")
	ds, _, err := f.d.ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: ep.ID})
	require.NoError(t, err)
	for _, d := range ds {
		eventually(t, func() bool {
			got, _, _ := f.d.ListDeliveries(ctx, webhook.DeliveryFilter{EventID: d.EventID})
			return got[0].State == webhook.StateSucceeded && got[0].BlockedBy == ""
		}, "succeeded")
	}
}
