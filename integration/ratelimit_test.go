package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/webhooktest"
)

// TestInstancesRateLimit measures how closely N Dispatchers on one
// PostgreSQL keep an endpoint's rate limit, which they share through the
// Store (webhook.SharedRateStore): the rate on the wire must stay within
// 10 % (plus one burst) of the limit with one instance and with three,
// and not fall far below it, also when a burst larger than one is split
// among the instances. Real time, not an injected clock: what is measured
// is the rate on the wire.
func TestInstancesRateLimit(t *testing.T) {
	pgURL(t)
	const rate, window = 20.0, 2 * time.Second
	for _, tc := range []struct{ instances, burst int }{{1, 1}, {3, 1}, {3, 4}} {
		t.Run(fmt.Sprintf("%d instances burst %d", tc.instances, tc.burst), func(t *testing.T) {
			ctx := context.Background()
			ds := instances(t, tc.instances, webhook.Config{Workers: 8})
			rc := webhooktest.NewReceiver(t)
			if _, _, err := ds[0].CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rc.URL(),
				RateLimit: webhook.RateLimit{PerSecond: rate, Burst: tc.burst}}); err != nil {
				t.Fatal(err)
			}
			events := make([]webhook.Event, 400)
			for i := range events {
				events[i] = webhook.Event{ID: fmt.Sprintf("rl-%d", i), Type: "post.created", TenantID: "acme", Data: i}
			}
			if _, err := ds[0].PublishMany(ctx, events); err != nil {
				t.Fatal(err)
			}
			rc.WaitFor(t, tc.burst+1, 10*time.Second)
			t0, n0 := time.Now(), rc.Len()
			time.Sleep(window)
			got := float64(rc.Len()-n0) / time.Since(t0).Seconds()
			t.Logf("%d instance(s), limit %.0f/s burst %d: observed %.1f/s (%.2fx the limit)", tc.instances, rate, tc.burst, got, got/rate)
			if bound := rate*1.1 + float64(tc.burst)/window.Seconds(); got > bound {
				t.Fatalf("observed %.1f/s, above the shared limit's bound %.1f/s", got, bound)
			}
			if got < rate*0.7 {
				t.Fatalf("observed %.1f/s, well under the limit %.0f/s: the limit holds deliveries back too long", got, rate)
			}
		})
	}
}
