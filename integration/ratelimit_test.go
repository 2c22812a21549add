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
// PostgreSQL keep an endpoint's rate limit. Each keeps its own bucket, so
// the documented bound is N times the rate (plus N bursts): this checks
// that bound and logs the observed rate. Real time, not an injected
// clock: what is measured is the rate on the wire.
func TestInstancesRateLimit(t *testing.T) {
	pgURL(t)
	const rate, window = 20.0, 2 * time.Second
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d instances", n), func(t *testing.T) {
			ctx := context.Background()
			ds := instances(t, n, webhook.Config{Workers: 8, PollInterval: 20 * time.Millisecond})
			rc := webhooktest.NewReceiver(t)
			if _, _, err := ds[0].CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rc.URL(),
				RateLimit: webhook.RateLimit{PerSecond: rate, Burst: 1}}); err != nil {
				t.Fatal(err)
			}
			events := make([]webhook.Event, 400)
			for i := range events {
				events[i] = webhook.Event{ID: fmt.Sprintf("rl-%d", i), Type: "post.created", TenantID: "acme", Data: i}
			}
			if _, err := ds[0].PublishMany(ctx, events); err != nil {
				t.Fatal(err)
			}
			rc.WaitFor(t, 1, 10*time.Second)
			t0, n0 := time.Now(), rc.Len()
			time.Sleep(window)
			got := float64(rc.Len()-n0) / time.Since(t0).Seconds()
			t.Logf("%d instance(s), limit %.0f/s burst 1: observed %.1f/s (%.2fx the limit)", n, rate, got, got/rate)
			if bound := float64(n)*rate*1.1 + float64(n)/window.Seconds(); got > bound {
				t.Fatalf("observed %.1f/s, above the per-process bound %.1f/s", got, bound)
			}
			if got < rate*0.7 {
				t.Fatalf("observed %.1f/s, well under the limit %.0f/s: the limit holds deliveries back too long", got, rate)
			}
		})
	}
}
