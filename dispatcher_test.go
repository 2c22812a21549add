package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// hooks collects what the dispatcher reports.
type hooks struct {
	mu       sync.Mutex
	attempts []webhook.AttemptResult
	disabled []webhook.Endpoint
}

func (h *hooks) results() []webhook.AttemptResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.AttemptResult(nil), h.attempts...)
}

func (h *hooks) disabledEndpoints() []webhook.Endpoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhook.Endpoint(nil), h.disabled...)
}

type fixture struct {
	d     *webhook.Dispatcher
	store *memstore.Store
	hooks *hooks
}

// setup starts a dispatcher on a memstore with fast polling and millisecond
// retries; edit may change the config first. The dispatcher may reach
// loopback (webhooktest.StartDispatcher), and is shut down when the test
// ends.
func setup(t *testing.T, edit func(*webhook.Config)) *fixture {
	t.Helper()
	f := &fixture{store: memstore.New(), hooks: &hooks{}}
	cfg := &webhook.Config{
		PollInterval: 5 * time.Millisecond,
		Retry:        webhook.FixedSchedule(time.Millisecond, time.Millisecond),
		OnAttempt: func(r webhook.AttemptResult) {
			f.hooks.mu.Lock()
			f.hooks.attempts = append(f.hooks.attempts, r)
			f.hooks.mu.Unlock()
		},
		OnEndpointDisabled: func(ep webhook.Endpoint) {
			f.hooks.mu.Lock()
			f.hooks.disabled = append(f.hooks.disabled, ep)
			f.hooks.mu.Unlock()
		},
	}
	if edit != nil {
		edit(cfg)
	}
	f.d = webhooktest.StartDispatcher(t, f.store, cfg)
	return f
}

func (f *fixture) endpoint(t *testing.T, p webhook.EndpointParams) (*webhook.Endpoint, string) {
	t.Helper()
	ep, secret, err := f.d.CreateEndpoint(context.Background(), p)
	require.NoError(t, err)
	return ep, secret
}

func (f *fixture) publish(t *testing.T, ev webhook.Event) webhook.Event {
	t.Helper()
	out, err := f.d.Publish(context.Background(), ev)
	require.NoError(t, err)
	return out
}

func (f *fixture) get(t *testing.T, id string) *webhook.Endpoint {
	t.Helper()
	ep, err := f.d.GetEndpoint(context.Background(), id)
	require.NoError(t, err)
	return ep
}

func (f *fixture) deliveries(t *testing.T, filter webhook.DeliveryFilter) []*webhook.Delivery {
	t.Helper()
	ds, _, err := f.d.ListDeliveries(context.Background(), filter)
	require.NoError(t, err)
	return ds
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 15*time.Second, 2*time.Millisecond, msg) // generous: shared, loaded machines
}

func TestPublishDeliversSignedIdenticalBytes(t *testing.T) {
	f := setup(t, nil)
	a, b := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t)
	_, secretA := f.endpoint(t, webhook.EndpointParams{TenantID: "acme", URL: a.URL()})
	_, secretB := f.endpoint(t, webhook.EndpointParams{TenantID: "acme", URL: b.URL() + "/hook?key=abc"})

	ev := f.publish(t, webhook.Event{Type: "post.created", TenantID: "acme", Data: map[string]string{"title": "<Hello> & bye"}})
	require.NotEmpty(t, ev.ID, "ID assigned")
	require.False(t, ev.CreatedAt.IsZero(), "CreatedAt assigned")

	eventually(t, func() bool { return a.Len() == 1 && b.Len() == 1 }, "both endpoints get the event")
	ra, rb := a.Requests()[0], b.Requests()[0]
	assert.Equal(t, ra.Body, rb.Body, "every endpoint gets the same bytes")
	assert.Equal(t, http.MethodPost, ra.Method)
	assert.Equal(t, "application/json", ra.Header.Get("Content-Type"))
	assert.Equal(t, "outhook/"+webhook.Version, ra.Header.Get("User-Agent"))
	assert.Equal(t, ev.ID, ra.Header.Get("webhook-id"))
	assert.Contains(t, string(ra.Body), `"title":"<Hello> & bye"`, "no HTML escaping")

	var env map[string]any
	require.NoError(t, json.Unmarshal(ra.Body, &env))
	assert.Equal(t, ev.ID, env["id"])
	assert.Equal(t, "post.created", env["type"])
	assert.Equal(t, "acme", env["tenant_id"])

	now := time.Now()
	assert.NoError(t, webhook.Verify(secretA, ra.Header, ra.Body, now))
	assert.NoError(t, webhook.Verify(secretB, rb.Header, rb.Body, now))
	assert.Error(t, webhook.Verify(secretA, rb.Header, rb.Body, now), "secrets are per endpoint")
}

func TestPublishReturnsWithoutWaitingForHTTP(t *testing.T) {
	f := setup(t, nil)
	release := make(chan struct{})
	slow := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) { <-release }))
	defer close(release)
	f.endpoint(t, webhook.EndpointParams{URL: slow.URL()})

	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return slow.Len() == 1 }, "request in flight")
	done := make(chan error, 1)
	go func() {
		_, err := f.d.Publish(context.Background(), webhook.Event{Type: "post.created"})
		done <- err
	}()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("Publish blocked on an in-flight request")
	}
}

func TestPublishFansOutByTenantFilterAndState(t *testing.T) {
	f := setup(t, nil)
	all, posts, votes, other, off := webhooktest.NewReceiver(t), webhooktest.NewReceiver(t), webhooktest.NewReceiver(t), webhooktest.NewReceiver(t), webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{TenantID: "acme", URL: all.URL()})
	f.endpoint(t, webhook.EndpointParams{TenantID: "acme", URL: posts.URL(), Events: []string{"post.*"}})
	f.endpoint(t, webhook.EndpointParams{TenantID: "acme", URL: votes.URL(), Events: []string{"vote.cast"}})
	f.endpoint(t, webhook.EndpointParams{TenantID: "globex", URL: other.URL()})
	disabled, _ := f.endpoint(t, webhook.EndpointParams{TenantID: "acme", URL: off.URL()})
	require.NoError(t, f.d.DisableEndpoint(context.Background(), disabled.ID, "paused by customer"))

	f.publish(t, webhook.Event{Type: "post.created", TenantID: "acme"})
	f.publish(t, webhook.Event{Type: "vote.cast", TenantID: "acme"})

	eventually(t, func() bool { return all.Len() == 2 && posts.Len() == 1 && votes.Len() == 1 }, "filters applied")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 0, other.Len(), "another tenant's endpoint gets nothing")
	assert.Equal(t, 0, off.Len(), "a disabled endpoint gets nothing")
	assert.Empty(t, f.deliveries(t, webhook.DeliveryFilter{EndpointID: disabled.ID}), "no deliveries created while disabled")
}

func TestDuplicateEventIDCreatesNoDeliveries(t *testing.T) {
	f := setup(t, nil)
	rc := webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})

	first := f.publish(t, webhook.Event{ID: "evt_42", Type: "post.created", Data: 1})
	again := f.publish(t, webhook.Event{ID: "evt_42", Type: "post.created", Data: 2})
	assert.Equal(t, first.ID, again.ID)
	eventually(t, func() bool { return rc.Len() == 1 }, "delivered once")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 1, rc.Len())
	assert.Len(t, f.deliveries(t, webhook.DeliveryFilter{EventID: "evt_42"}), 1)
}

func TestRetriesThenSucceedsAndResetsCounter(t *testing.T) {
	f := setup(t, nil)
	flaky := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, n int) {
		if n < 3 {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("database is down"))
		}
	}))
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: flaky.URL()})

	ev := f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return len(f.hooks.results()) == 3 }, "three attempts")
	reqs := flaky.Requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs[1:] {
		assert.Equal(t, reqs[0].Body, r.Body, "same bytes on every attempt")
		assert.Equal(t, ev.ID, r.Header.Get("webhook-id"), "same ID on every attempt")
	}

	ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID})
	require.Len(t, ds, 1)
	assert.Equal(t, webhook.StateSucceeded, ds[0].State)
	attempts, err := f.d.ListAttempts(context.Background(), ds[0].ID)
	require.NoError(t, err)
	require.Len(t, attempts, 3)
	assert.Equal(t, 500, attempts[0].StatusCode)
	assert.Equal(t, "database is down", attempts[0].ResponseBody)
	assert.Equal(t, "HTTP 500", attempts[0].Error)
	assert.True(t, attempts[2].Success)

	got := f.get(t, ep.ID)
	assert.Equal(t, 0, got.ConsecutiveFailures)
	assert.False(t, got.LastSuccessAt.IsZero())
	assert.False(t, got.LastFailureAt.IsZero())
	assert.Equal(t, "HTTP 500", got.LastFailureReason)
}

func TestAutoDisableAfterConsecutiveFailedDeliveries(t *testing.T) {
	f := setup(t, func(c *webhook.Config) { c.Retry = webhook.FixedSchedule() }) // one attempt per delivery
	dead := webhooktest.NewReceiver(t, webhooktest.WithStatus(http.StatusBadGateway))
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: dead.URL()})

	for i := 1; i <= 4; i++ {
		f.publish(t, webhook.Event{Type: "post.created"})
		eventually(t, func() bool { return f.get(t, ep.ID).ConsecutiveFailures == i }, "counts failed deliveries")
		require.False(t, f.get(t, ep.ID).Disabled, "not disabled before the threshold")
	}
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return f.get(t, ep.ID).Disabled }, "disabled at the fifth")
	got := f.get(t, ep.ID)
	assert.Equal(t, 5, got.ConsecutiveFailures)
	assert.Contains(t, got.DisabledReason, "5 consecutive failed deliveries")
	assert.False(t, got.DisabledAt.IsZero())
	eventually(t, func() bool { return len(f.hooks.disabledEndpoints()) == 1 }, "hook called")
	assert.Equal(t, ep.ID, f.hooks.disabledEndpoints()[0].ID)

	f.publish(t, webhook.Event{Type: "post.created"})
	assert.Len(t, f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID}), 5, "no delivery created while disabled")

	require.NoError(t, f.d.EnableEndpoint(context.Background(), ep.ID))
	got = f.get(t, ep.ID)
	assert.False(t, got.Disabled)
	assert.Equal(t, 0, got.ConsecutiveFailures, "re-enabling resets the counter")
	assert.Empty(t, got.DisabledReason)
	assert.Len(t, f.hooks.disabledEndpoints(), 1, "hook called once")
}

func TestSuccessBetweenFailuresResetsCount(t *testing.T) {
	f := setup(t, func(c *webhook.Config) { c.Retry = webhook.FixedSchedule() })
	var fail atomic.Bool
	fail.Store(true)
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
		if fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	for i := 1; i <= 4; i++ {
		f.publish(t, webhook.Event{Type: "post.created"})
		eventually(t, func() bool { return f.get(t, ep.ID).ConsecutiveFailures == i }, "failures counted")
	}
	fail.Store(false)
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return f.get(t, ep.ID).ConsecutiveFailures == 0 }, "success resets")
	fail.Store(true)
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return f.get(t, ep.ID).ConsecutiveFailures == 1 }, "counting starts over")
	assert.False(t, f.get(t, ep.ID).Disabled)
}

func TestGoneDisablesAtOnceAndEndsPending(t *testing.T) {
	f := setup(t, func(c *webhook.Config) {
		c.Workers = 1
		c.Retry = webhook.FixedSchedule(time.Hour) // a retry would wait an hour
	})
	// The receiver answers once all three are published: an event
	// published after the endpoint is disabled makes no delivery at all.
	published := make(chan struct{})
	gone := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
		<-published
		w.WriteHeader(http.StatusGone)
	}))
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: gone.URL()})
	for i := 0; i < 3; i++ {
		f.publish(t, webhook.Event{Type: "post.created"})
	}
	close(published)
	eventually(t, func() bool { return f.get(t, ep.ID).Disabled }, "410 disables")
	assert.Equal(t, 1, gone.Len(), "nothing sent after 410")
	got := f.get(t, ep.ID)
	assert.Contains(t, got.DisabledReason, "410")
	eventually(t, func() bool {
		return len(f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID, State: webhook.StateFailed})) == 3
	}, "pending deliveries end as failed")
	for _, d := range f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID}) {
		if d.Attempts == 0 {
			assert.Equal(t, webhook.ReasonEndpointDisabled, d.LastError)
		}
	}
}

func TestEndpointMaxAttemptsOverridesPolicy(t *testing.T) {
	f := setup(t, nil) // policy: 3 attempts
	rc := webhooktest.NewReceiver(t, webhooktest.WithStatus(http.StatusInternalServerError))
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL(), MaxAttempts: 5})
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return f.get(t, ep.ID).ConsecutiveFailures == 1 }, "delivery failed")
	assert.Equal(t, 5, rc.Len())

	one, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL(), MaxAttempts: 1, Name: "one"})
	f.publish(t, webhook.Event{Type: "vote.cast"})
	eventually(t, func() bool { return f.get(t, one.ID).ConsecutiveFailures == 1 }, "delivery failed")
	ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: one.ID})
	require.Len(t, ds, 1)
	assert.Equal(t, 1, ds[0].Attempts)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := setup(t, nil)
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return len(f.hooks.results()) == 1 }, "first attempt")
	r := f.hooks.results()[0]
	assert.Equal(t, webhook.OutcomeRetry, r.Outcome)
	wait := r.RetryAt.Sub(r.Attempt.StartedAt)
	assert.InDelta(t, 120, wait.Seconds(), 2, "next attempt after Retry-After, not the 1 ms policy delay")
}

func TestRedirectIsAFailure(t *testing.T) {
	f := setup(t, func(c *webhook.Config) { c.Retry = webhook.FixedSchedule() })
	target := webhooktest.NewReceiver(t)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL(), http.StatusMovedPermanently))
	defer redirect.Close()
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: redirect.URL})
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return f.get(t, ep.ID).ConsecutiveFailures == 1 }, "failed")
	assert.Equal(t, 0, target.Len(), "redirect not followed")
	assert.Contains(t, f.get(t, ep.ID).LastFailureReason, "301")
}

func TestRotateSecretSignsWithBoth(t *testing.T) {
	f := setup(t, nil)
	rc := webhooktest.NewReceiver(t)
	ep, oldSecret := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	newSecret, err := f.d.RotateSecret(context.Background(), ep.ID, time.Hour)
	require.NoError(t, err)
	require.NotEqual(t, oldSecret, newSecret)
	require.True(t, strings.HasPrefix(newSecret, "whsec_"))

	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return rc.Len() == 1 }, "delivered")
	r := rc.Requests()[0]
	assert.Len(t, strings.Fields(r.Header.Get("webhook-signature")), 2, "two v1 signatures during the grace period")
	assert.NoError(t, webhook.Verify(oldSecret, r.Header, r.Body, time.Now()))
	assert.NoError(t, webhook.Verify(newSecret, r.Header, r.Body, time.Now()))

	_, err = f.d.RotateSecret(context.Background(), ep.ID, 0)
	require.NoError(t, err)
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return rc.Len() == 2 }, "delivered")
	r = rc.Requests()[1]
	assert.Error(t, webhook.Verify(oldSecret, r.Header, r.Body, time.Now()), "grace 0 retires the old secrets at once")
	assert.Error(t, webhook.Verify(newSecret, r.Header, r.Body, time.Now()))
}

func TestHMACSignerFormContentTypeMethodAndHeaders(t *testing.T) {
	f := setup(t, func(c *webhook.Config) {
		c.Signer = webhook.HMACSigner{Header: "X-Hub-Signature-256", Prefix: "sha256="}
	})
	rc := webhooktest.NewReceiver(t)
	_, secret := f.endpoint(t, webhook.EndpointParams{
		URL: rc.URL(), Method: "PUT", ContentType: webhook.ContentTypeForm,
		Headers: http.Header{"Authorization": {"Bearer t0k"}},
	})
	f.publish(t, webhook.Event{Type: "post.created", Data: map[string]string{"q": "a&b=c"}})
	eventually(t, func() bool { return rc.Len() == 1 }, "delivered")
	r := rc.Requests()[0]
	assert.Equal(t, http.MethodPut, r.Method)
	assert.Equal(t, webhook.ContentTypeForm, r.Header.Get("Content-Type"))
	assert.Equal(t, "Bearer t0k", r.Header.Get("Authorization"))
	form, err := url.ParseQuery(string(r.Body))
	require.NoError(t, err)
	assert.Contains(t, form.Get("payload"), `"q":"a&b=c"`)
	assert.Equal(t, "sha256="+hexHMAC(secret, r.Body), r.Header.Get("X-Hub-Signature-256"), "signed over the bytes sent")
}

func TestCreateEndpointRejectsAndStoresNothing(t *testing.T) {
	// Not started, and not through webhooktest, which allows loopback:
	// endpoint checks need no workers.
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
		MaxEndpointsPerTenant: 2,
		EventTypes:            []string{"post.created", "vote.cast"},
	})
	require.NoError(t, err)
	f := &fixture{d: d}
	ctx := context.Background()
	tests := []struct {
		name string
		p    webhook.EndpointParams
		want error
	}{
		{"private address", webhook.EndpointParams{TenantID: "t", URL: "http://10.0.0.1/hook"}, webhook.ErrInvalid},
		{"unknown event", webhook.EndpointParams{TenantID: "t", URL: "https://example.com", Events: []string{"item.create"}}, webhook.ErrUnknownEventType},
		{"bad secret", webhook.EndpointParams{TenantID: "t", URL: "https://example.com", Secret: "hunter2hunter2hunter2"}, webhook.ErrInvalid},
		{"short secret", webhook.EndpointParams{TenantID: "t", URL: "https://example.com", Secret: "x"}, webhook.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, secret, err := f.d.CreateEndpoint(ctx, tt.p)
			assert.ErrorIs(t, err, tt.want)
			assert.Empty(t, secret)
			eps, err := f.d.ListEndpoints(ctx, "t")
			require.NoError(t, err)
			assert.Empty(t, eps, "nothing stored")
		})
	}
	t.Run("tenant limit", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			_, _, err := f.d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "full", URL: "https://example.com"})
			require.NoError(t, err)
		}
		_, _, err := f.d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "full", URL: "https://example.com"})
		assert.ErrorIs(t, err, webhook.ErrTooManyEndpoints)
		eps, _ := f.d.ListEndpoints(ctx, "full")
		assert.Len(t, eps, 2)
	})
	t.Run("signer header", func(t *testing.T) {
		hd, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{Signer: webhook.HMACSigner{Header: "X-Hub-Signature-256"}})
		require.NoError(t, err)
		_, _, err = hd.CreateEndpoint(ctx, webhook.EndpointParams{URL: "https://example.com", Headers: http.Header{"X-Hub-Signature-256": {"forged"}}})
		assert.ErrorIs(t, err, webhook.ErrInvalid, "an endpoint cannot override the signature header")
	})
	t.Run("custom whsec secret", func(t *testing.T) {
		custom := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		_, secret, err := f.d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "custom", URL: "https://example.com", Secret: custom})
		require.NoError(t, err)
		assert.Equal(t, custom, secret)
	})
}

func TestPublishRejectsAndStoresNothing(t *testing.T) {
	f := setup(t, func(c *webhook.Config) {
		c.EventTypes = []string{"post.created"}
		c.MaxPayloadBytes = 200
	})
	rc := webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	tests := []struct {
		name string
		ev   webhook.Event
		want error
	}{
		{"malformed type", webhook.Event{Type: "Post Created"}, webhook.ErrInvalid},
		{"unknown type", webhook.Event{Type: "post.deleted"}, webhook.ErrUnknownEventType},
		{"too large", webhook.Event{Type: "post.created", Data: strings.Repeat("x", 300)}, webhook.ErrPayloadTooLarge},
		{"unmarshalable", webhook.Event{Type: "post.created", Data: func() {}}, webhook.ErrInvalid},
		{"id with newline", webhook.Event{ID: "a\nb", Type: "post.created"}, webhook.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.d.Publish(context.Background(), tt.ev)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	time.Sleep(30 * time.Millisecond)
	assert.Empty(t, f.deliveries(t, webhook.DeliveryFilter{}))
	assert.Equal(t, 0, rc.Len())
}

func TestSlowEndpointDoesNotStarveOthers(t *testing.T) {
	f := setup(t, func(c *webhook.Config) {
		c.Workers = 4
		c.MaxInFlightPerEndpoint = 2
	})
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock() // a failed assertion must not leave handlers hanging
	var inFlight, peak atomic.Int32
	slow := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
	}))
	fast := webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{TenantID: "slow", URL: slow.URL()})
	f.endpoint(t, webhook.EndpointParams{TenantID: "fast", URL: fast.URL()})

	for i := 0; i < 10; i++ {
		f.publish(t, webhook.Event{Type: "post.created", TenantID: "slow"})
	}
	eventually(t, func() bool { return slow.Len() == 2 }, "slow endpoint takes its cap")
	for i := 0; i < 10; i++ {
		f.publish(t, webhook.Event{Type: "post.created", TenantID: "fast"})
	}
	eventually(t, func() bool { return fast.Len() == 10 }, "fast endpoint served while slow one hangs")
	unblock()
	eventually(t, func() bool { return slow.Len() == 10 }, "slow endpoint drains")
	assert.LessOrEqual(t, peak.Load(), int32(2), "per-endpoint in-flight cap")
}

// unstarted returns a dispatcher that is not started yet, on a fresh
// memstore, with one endpoint pointing at a receiver answering with respond
// and one event published to it.
func unstarted(t *testing.T, cfg webhook.Config, respond webhooktest.Responder) (*webhook.Dispatcher, *memstore.Store, *webhooktest.Receiver) {
	t.Helper()
	cfg.AllowPrivateNetworks = true
	cfg.PollInterval = 5 * time.Millisecond
	store := memstore.New()
	d, err := webhook.NewDispatcher(store, &cfg)
	require.NoError(t, err)
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(respond))
	ctx := context.Background()
	_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{URL: rc.URL()})
	require.NoError(t, err)
	_, err = d.Publish(ctx, webhook.Event{Type: "post.created"})
	require.NoError(t, err)
	return d, store, rc
}

func TestShutdownDrainsInFlightAttempts(t *testing.T) {
	var recorded atomic.Int32
	d, _, rc := unstarted(t, webhook.Config{OnAttempt: func(webhook.AttemptResult) { recorded.Add(1) }},
		func(w http.ResponseWriter, _ *http.Request, _ int) { time.Sleep(200 * time.Millisecond) })
	ctx := context.Background()
	require.NoError(t, d.Start(ctx))
	eventually(t, func() bool { return rc.Len() == 1 }, "in flight")

	require.NoError(t, d.Shutdown(ctx))
	assert.Equal(t, int32(1), recorded.Load(), "the in-flight attempt finished and was recorded")
	ds, _, _ := d.ListDeliveries(ctx, webhook.DeliveryFilter{})
	require.Len(t, ds, 1)
	assert.Equal(t, webhook.StateSucceeded, ds[0].State)
	assertNoDispatcherGoroutines(t)
	assert.ErrorIs(t, d.Start(ctx), webhook.ErrStopped, "Start after Shutdown")
}

func TestShutdownTimeoutAbortsAndLeavesNoGoroutines(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	d, _, rc := unstarted(t, webhook.Config{Workers: 3}, func(w http.ResponseWriter, _ *http.Request, _ int) { <-release })
	ctx := context.Background()
	require.NoError(t, d.Start(ctx))
	eventually(t, func() bool { return rc.Len() == 1 }, "in flight")

	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, d.Shutdown(sctx), context.DeadlineExceeded)
	ds, _, _ := d.ListDeliveries(ctx, webhook.DeliveryFilter{})
	require.Len(t, ds, 1)
	assert.Equal(t, webhook.StatePending, ds[0].State, "an aborted attempt is not recorded as a failure")
	assert.Equal(t, 0, ds[0].Attempts)
	assertNoDispatcherGoroutines(t)
}

func TestLeaseExpiryRedeliversAfterCrash(t *testing.T) {
	ctx := context.Background()
	clock := time.Now()
	var offset atomic.Int64
	now := func() time.Time { return clock.Add(time.Duration(offset.Load())) }
	d, store, rc := unstarted(t, webhook.Config{Clock: now}, nil)

	// A worker of a process that then dies claims the delivery.
	claims, err := store.Claim(ctx, webhook.ClaimParams{Now: now(), Lease: webhook.LeaseDefault, Limit: 10})
	require.NoError(t, err)
	require.Len(t, claims, 1)

	require.NoError(t, d.Start(ctx))
	defer func() { _ = d.Shutdown(ctx) }()
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 0, rc.Len(), "not sent while the lease is live")
	offset.Store(int64(webhook.LeaseDefault + time.Second))
	eventually(t, func() bool { return rc.Len() == 1 }, "sent once the lease expired")
	_, _, err = store.Complete(ctx, webhook.Completion{DeliveryID: claims[0].Delivery.ID, Token: claims[0].Token, Outcome: webhook.OutcomeSuccess, Now: now(),
		Attempt: &webhook.Attempt{ID: "late", DeliveryID: claims[0].Delivery.ID, Number: 1}})
	assert.ErrorIs(t, err, webhook.ErrLeaseLost, "the dead worker's late completion is refused")
}

func TestRecoverRequeuesFailedDeliveries(t *testing.T) {
	f := setup(t, func(c *webhook.Config) { c.Retry = webhook.FixedSchedule() })
	var up atomic.Bool
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	start := time.Now()
	for i := 0; i < 5; i++ {
		f.publish(t, webhook.Event{Type: "post.created"})
	}
	eventually(t, func() bool { return f.get(t, ep.ID).Disabled }, "disabled")
	up.Store(true)
	require.NoError(t, f.d.EnableEndpoint(context.Background(), ep.ID))
	n, err := f.d.Recover(context.Background(), ep.ID, start.Add(-time.Second))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	eventually(t, func() bool {
		return len(f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID, State: webhook.StateSucceeded})) == 5
	}, "recovered deliveries succeed")
}

func TestSendTest(t *testing.T) {
	f := setup(t, nil)
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) { _, _ = w.Write([]byte("pong")) }))
	ep, secret := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	require.NoError(t, f.d.DisableEndpoint(context.Background(), ep.ID, ""))
	a, err := f.d.SendTest(context.Background(), ep.ID)
	require.NoError(t, err)
	assert.True(t, a.Success)
	assert.Equal(t, 200, a.StatusCode)
	assert.Equal(t, "pong", a.ResponseBody)
	r := rc.Requests()[0]
	assert.Contains(t, string(r.Body), `"type":"webhook.test"`)
	assert.NoError(t, webhook.Verify(secret, r.Header, r.Body, time.Now()))
	assert.Empty(t, f.deliveries(t, webhook.DeliveryFilter{}), "not logged as a delivery")

	_, err = f.d.SendTest(context.Background(), "nope")
	assert.ErrorIs(t, err, webhook.ErrNotFound)
}

func TestLogsNeverShowSecretsOrQueryValues(t *testing.T) {
	var buf syncBuffer
	f := setup(t, func(c *webhook.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Retry = webhook.FixedSchedule()
	})
	rc := webhooktest.NewReceiver(t, webhooktest.WithStatus(http.StatusGone))
	_, secret := f.endpoint(t, webhook.EndpointParams{URL: rc.URL() + "/hook?key=sleekplan-secret-123"})
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	f.endpoint(t, webhook.EndpointParams{URL: closedURL + "/x?token=other-secret-456"})
	f.publish(t, webhook.Event{Type: "post.created"})
	eventually(t, func() bool { return strings.Count(buf.String(), "webhook: delivery failed") == 2 }, "both logged")
	out := buf.String()
	assert.Contains(t, out, "/…")
	for _, s := range []string{"sleekplan-secret-123", "other-secret-456", secret, strings.TrimPrefix(secret, "whsec_")} {
		assert.NotContains(t, out, s)
	}
	for _, r := range f.hooks.results() {
		assert.NotContains(t, r.Attempt.Error, "other-secret-456", "attempt errors do not carry the URL")
	}
}

func TestPublishBeforeStartIsDeliveredAfterStart(t *testing.T) {
	d, _, rc := unstarted(t, webhook.Config{}, nil)
	ctx := context.Background()
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, 0, rc.Len())
	require.NoError(t, d.Start(ctx))
	defer func() { _ = d.Shutdown(ctx) }()
	eventually(t, func() bool { return rc.Len() == 1 }, "delivered after Start")
}

func TestUpdateEndpoint(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	ep, _ := f.endpoint(t, webhook.EndpointParams{TenantID: "acme", Name: "prod", URL: "http://127.0.0.1:1/a"})
	up, err := f.d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{Name: "staging", URL: "http://127.0.0.1:1/b", Events: []string{"post.*"}})
	require.NoError(t, err)
	assert.Equal(t, "staging", up.Name)
	assert.Equal(t, "acme", up.TenantID)
	assert.Equal(t, []string{"post.*"}, up.Events)

	_, err = f.d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: "http://127.0.0.1:1/b", Secret: "whsec_x"})
	assert.ErrorIs(t, err, webhook.ErrInvalid)
	_, err = f.d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{TenantID: "globex", URL: "http://127.0.0.1:1/b"})
	assert.ErrorIs(t, err, webhook.ErrInvalid)
	_, err = f.d.UpdateEndpoint(ctx, ep.ID, webhook.EndpointParams{URL: "gopher://x"})
	assert.ErrorIs(t, err, webhook.ErrInvalid)
	assert.Equal(t, "staging", f.get(t, ep.ID).Name, "a rejected update changes nothing")
	_, err = f.d.UpdateEndpoint(ctx, "missing", webhook.EndpointParams{URL: "http://127.0.0.1:1/b"})
	assert.ErrorIs(t, err, webhook.ErrNotFound)

	require.NoError(t, f.d.DeleteEndpoint(ctx, ep.ID))
	_, err = f.d.GetEndpoint(ctx, ep.ID)
	assert.True(t, errors.Is(err, webhook.ErrNotFound))
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// hexHMAC is what a receiver computes for HMACSigner.
func hexHMAC(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// assertNoDispatcherGoroutines fails if any goroutine still runs the
// dispatcher's code, or the default client's keep-alive loops.
func assertNoDispatcherGoroutines(t *testing.T) {
	t.Helper()
	var stacks string
	ok := assert.Eventually(t, func() bool {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		return !strings.Contains(stacks, "webhook.(*Dispatcher)")
	}, 2*time.Second, 5*time.Millisecond)
	if !ok {
		t.Logf("goroutines:\n%s", stacks)
	}
}

func TestShutdownStopsClaiming(t *testing.T) {
	var sent atomic.Int32
	release := make(chan struct{})
	d, _, rc := unstarted(t, webhook.Config{Workers: 1}, func(w http.ResponseWriter, _ *http.Request, _ int) {
		sent.Add(1)
		<-release
	})
	ctx := context.Background()
	for i := 0; i < 20; i++ { // a backlog behind the one in flight
		_, err := d.Publish(ctx, webhook.Event{Type: "post.created"})
		require.NoError(t, err)
	}
	require.NoError(t, d.Start(ctx))
	eventually(t, func() bool { return rc.Len() == 1 }, "one in flight")
	done := make(chan error, 1)
	go func() { done <- d.Shutdown(ctx) }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	require.NoError(t, <-done)
	// One attempt ran and one delivery was claimed ahead for the next
	// (Workers 1): Shutdown sends what it had claimed, nothing more.
	assert.Equal(t, int32(2), sent.Load(), "nothing claimed once Shutdown began")
	ds, _, _ := d.ListDeliveries(ctx, webhook.DeliveryFilter{State: webhook.StatePending, Limit: 100})
	assert.Len(t, ds, 19, "the backlog stays queued for the next start")
}

func TestShutdownWithoutStart(t *testing.T) {
	d, err := webhook.NewDispatcher(memstore.New(), nil)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, d.Shutdown(ctx))
	require.NoError(t, d.Shutdown(ctx), "a second Shutdown returns too")
	assert.ErrorIs(t, d.Start(ctx), webhook.ErrStopped)
}

func TestConcurrentShutdownsAllWait(t *testing.T) {
	release := make(chan struct{})
	d, _, rc := unstarted(t, webhook.Config{}, func(w http.ResponseWriter, _ *http.Request, _ int) { <-release })
	ctx := context.Background()
	require.NoError(t, d.Start(ctx))
	eventually(t, func() bool { return rc.Len() == 1 }, "in flight")

	var returned atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, d.Shutdown(ctx))
			returned.Add(1)
		}()
	}
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, int32(0), returned.Load(), "no Shutdown returns while an attempt is in flight")
	close(release)
	wg.Wait()
	assertNoDispatcherGoroutines(t)
}

func TestCountDisableEndsPendingDeliveries(t *testing.T) {
	f := setup(t, func(c *webhook.Config) {
		c.Retry = webhook.FixedSchedule()
		c.DisableAfter = 2
		c.MaxInFlightPerEndpoint = 1
		c.Workers = 1
	})
	// The receiver answers once all six are published: an event published
	// after the endpoint is disabled makes no delivery at all.
	published := make(chan struct{})
	rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
		<-published
		w.WriteHeader(http.StatusInternalServerError)
	}))
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	for i := 0; i < 6; i++ {
		f.publish(t, webhook.Event{Type: "post.created"})
	}
	close(published)
	eventually(t, func() bool { return f.get(t, ep.ID).Disabled }, "disabled at 2")
	eventually(t, func() bool {
		return len(f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID, State: webhook.StateFailed})) == 6
	}, "every delivery ended")
	var ended int
	for _, d := range f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID}) {
		if d.LastError == webhook.ReasonEndpointDisabled {
			ended++
			assert.Equal(t, 0, d.Attempts)
		}
	}
	assert.Equal(t, 6-rc.Len(), ended, "deliveries never tried end as 'endpoint disabled'")
	assert.Equal(t, 2, f.get(t, ep.ID).ConsecutiveFailures)
}

func TestDuplicateIDOfAnotherTenantIsAnError(t *testing.T) {
	f := setup(t, nil)
	first := f.publish(t, webhook.Event{ID: "evt_1", Type: "post.created", TenantID: "acme"})
	time.Sleep(2 * time.Millisecond)
	again := f.publish(t, webhook.Event{ID: "evt_1", Type: "post.created", TenantID: "acme"})
	assert.True(t, first.CreatedAt.Equal(again.CreatedAt), "a retry returns the stored event's time")
	_, err := f.d.Publish(context.Background(), webhook.Event{ID: "evt_1", Type: "post.created", TenantID: "globex"})
	assert.ErrorIs(t, err, webhook.ErrDuplicateEvent)
	_, err = f.d.Publish(context.Background(), webhook.Event{ID: "evt_1", Type: "vote.cast", TenantID: "acme"})
	assert.ErrorIs(t, err, webhook.ErrDuplicateEvent)
}

func TestRecoverNeedsAnEnabledEndpoint(t *testing.T) {
	f := setup(t, nil)
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: "http://127.0.0.1:1/"})
	require.NoError(t, f.d.DisableEndpoint(context.Background(), ep.ID, "paused"))
	_, err := f.d.Recover(context.Background(), ep.ID, time.Time{})
	assert.ErrorIs(t, err, webhook.ErrInvalid)
	_, err = f.d.Recover(context.Background(), "missing", time.Time{})
	assert.ErrorIs(t, err, webhook.ErrNotFound)
}

// brokenSigner fails like a Signer given a secret it cannot use.
type brokenSigner struct{}

func (brokenSigner) Sign(http.Header, webhook.Message) error { return errors.New("no usable key") }

func TestSenderSideErrorsAreNotChargedToTheEndpoint(t *testing.T) {
	f := setup(t, func(c *webhook.Config) {
		c.Signer = brokenSigner{}
		c.Retry = webhook.FixedSchedule()
		c.DisableAfter = 1
	})
	rc := webhooktest.NewReceiver(t)
	ep, _ := f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	f.publish(t, webhook.Event{Type: "post.created"})
	time.Sleep(100 * time.Millisecond)
	got := f.get(t, ep.ID)
	assert.False(t, got.Disabled)
	assert.Equal(t, 0, got.ConsecutiveFailures)
	assert.Equal(t, 0, rc.Len())
	ds := f.deliveries(t, webhook.DeliveryFilter{EndpointID: ep.ID})
	require.Len(t, ds, 1)
	assert.Equal(t, webhook.StatePending, ds[0].State, "kept for when the configuration is fixed")
}
