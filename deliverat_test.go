package webhook_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/webhooktest"
)

// An event published with DeliverAt is stored at once and sent at that
// time of the clock, not before; one without it goes at once beside it.
func TestDeliverAtSendsAtItsTime(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) { c.Clock = clk.Now })
	rc := webhooktest.NewReceiver(t)
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	at := clk.Now().Add(time.Hour)
	later := f.publish(t, webhook.Event{Type: "post.created", DeliverAt: at})
	f.publish(t, webhook.Event{Type: "post.created"})
	holds(t, rc, 1, "only the event without DeliverAt goes")

	ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID, State: webhook.StatePending})
	require.Len(t, ds, 1)
	assert.Equal(t, later.ID, ds[0].EventID)
	assert.True(t, at.Equal(ds[0].NextAttemptAt), "the log shows when it will go: %s", ds[0].NextAttemptAt)

	clk.Advance(time.Hour - time.Second)
	holds(t, rc, 1, "nothing a second early")
	clk.Advance(time.Second)
	holds(t, rc, 2, "sent at DeliverAt")
}

// A DeliverAt in the past means at once.
func TestDeliverAtInThePastGoesAtOnce(t *testing.T) {
	clk := newTestClock()
	f := setup(t, func(c *webhook.Config) { c.Clock = clk.Now })
	rc := webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	f.publish(t, webhook.Event{Type: "post.created", DeliverAt: clk.Now().Add(-time.Hour)})
	holds(t, rc, 1, "sent at once")
}

// A DeliverAt no Store can hold is a *ValidationError naming the field,
// and nothing is stored.
func TestDeliverAtOutOfRangeIsRefused(t *testing.T) {
	f := setup(t, nil)
	for _, at := range []time.Time{time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := f.d.Publish(context.Background(), webhook.Event{ID: "evt-range", Type: "post.created", DeliverAt: at})
		var ve *webhook.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		assert.Equal(t, "DeliverAt", ve.Field)
		_, err = f.d.GetEvent(context.Background(), "evt-range")
		assert.ErrorIs(t, err, webhook.ErrNotFound, "nothing stored")
	}
}
