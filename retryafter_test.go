package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/webhooktest"
)

// A Retry-After beyond int64 seconds is a very long delay, capped at
// MaxRetryAfter like any other, not ignored in favour of the policy's
// short one.
func TestHugeRetryAfterIsCappedAtMaxRetryAfter(t *testing.T) {
	f := setup(t, func(c *webhook.Config) { c.MaxRetryAfter = 10 * time.Minute })
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "100000000000000000000") // 10^20
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return len(f.hooks.results()) == 1 }, "first attempt")
	r := f.hooks.results()[0]
	assert.Equal(t, webhook.OutcomeRetry, r.Outcome)
	wait := r.RetryAt.Sub(r.Attempt.StartedAt)
	assert.InDelta(t, (10 * time.Minute).Seconds(), wait.Seconds(), 2, "MaxRetryAfter, not the 1 ms policy delay")
}
