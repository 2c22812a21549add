package webhooktest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/webhooktest"
)

// Each hostile server fails a real delivery the way its name says, in the
// library's own words.
func TestHostileServersMisbehave(t *testing.T) {
	want := map[webhooktest.Misbehavior]string{
		webhooktest.Hang:            "timed out",
		webhooktest.Slowloris:       "timed out",
		webhooktest.EndlessBody:     "", // a 200: the body is cut at the read limit
		webhooktest.Reset:           "reset",
		webhooktest.Garbage:         "malformed",
		webhooktest.TooManyRequests: "HTTP 429",
	}
	for _, m := range webhooktest.Misbehaviors {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			d := webhooktest.NewMemDispatcher(t, &webhook.Config{
				RequestTimeout: 500 * time.Millisecond, Lease: 5 * time.Second,
				Retry: webhook.FixedSchedule(time.Hour),
			})
			ctx := context.Background()
			ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: webhooktest.NewHostile(t, m)})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := d.Publish(ctx, webhook.Event{Type: "post.created"})
			if err != nil {
				t.Fatal(err)
			}
			as := webhooktest.WaitForAttempts(t, d, ev.ID, ep.ID, 1, 10*time.Second)
			got := as[0].Error
			if w := want[m]; w == "" && got != "" || !strings.Contains(got, w) {
				t.Fatalf("%s: attempt error %q, want one containing %q", m, got, w)
			}
		})
	}
}
