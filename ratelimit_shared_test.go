package webhook_test

import (
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// Three Dispatchers on one Store (a SharedRateStore) share an endpoint's
// budget: together they send its burst and then one per interval of clock
// time, as one Dispatcher would, not three times that. Deliveries handed
// out ahead of their token (Claim.NotBefore) wait for it.
func TestRateLimitSharedByDispatchers(t *testing.T) {
	clk := newTestClock()
	store := memstore.New()
	var ds []*webhook.Dispatcher
	for range 3 {
		ds = append(ds, webhooktest.StartDispatcher(t, store, &webhook.Config{
			Clock:        clk.Now,
			PollInterval: 5 * time.Millisecond,
		}))
	}
	rc := webhooktest.NewReceiver(t)
	f := &fixture{d: ds[0], store: store}
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL(), RateLimit: webhook.RateLimit{PerSecond: 10, Burst: 2}})
	publishN(t, f, 12)
	holds(t, rc, 2, "the burst, once across three Dispatchers")
	for i := 1; i <= 5; i++ {
		clk.Advance(100 * time.Millisecond)
		holds(t, rc, 2+i, "one more per 100 ms, across three Dispatchers")
	}
	clk.Advance(time.Hour)
	holds(t, rc, 9, "a quiet hour fills the shared bucket to its burst, no more")
	clk.Advance(300 * time.Millisecond)
	holds(t, rc, 12, "the rest, one per 100 ms")
}
