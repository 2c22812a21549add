package webhooktest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// world is a started Dispatcher on memstore with one endpoint at a
// Receiver, and one event published to it.
type world struct {
	d   *webhook.Dispatcher
	s   *memstore.Store
	rcv *webhooktest.Receiver
	ep  *webhook.Endpoint
	ev  webhook.Event
}

func newWorld(t *testing.T, cfg *webhook.Config, opts ...webhooktest.Option) *world {
	t.Helper()
	w := &world{s: memstore.New(), rcv: webhooktest.NewReceiver(t, opts...)}
	w.d = webhooktest.StartDispatcher(t, w.s, cfg)
	ctx := context.Background()
	var (
		secret string
		err    error
	)
	w.ep, secret, err = w.d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: w.rcv.URL(), Events: []string{"post.*"}})
	if err != nil {
		t.Fatal(err)
	}
	w.rcv.AddSecret(secret)
	w.ev, err = w.d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestAssertDeliveredPasses(t *testing.T) {
	w := newWorld(t, nil)
	f := newFakeT(t)
	dl := webhooktest.AssertDelivered(f, w.d, w.ev.ID, w.ep.ID, wait)
	if dl == nil || dl.State != webhook.StateSucceeded || dl.EventID != w.ev.ID || f.failures() != "" {
		t.Fatalf("AssertDelivered = %+v, failures %q", dl, f.failures())
	}
	// The Store serves as well as the Dispatcher.
	if dl := webhooktest.AssertDelivered(f, w.s, w.ev.ID, w.ep.ID, time.Second); dl == nil {
		t.Fatalf("on the Store: %s", f.failures())
	}
	if !webhooktest.AssertNotDelivered(f, w.d, w.ev.ID, "another-endpoint", 20*time.Millisecond) {
		t.Errorf("AssertNotDelivered to another endpoint: %s", f.failures())
	}
}

// TestAssertDeliveredFails: each way a delivery can fall short fails the
// test with a message that says what happened instead.
func TestAssertDeliveredFails(t *testing.T) {
	t.Run("failed for good: at once, with the attempts", func(t *testing.T) {
		w := newWorld(t, &webhook.Config{Retry: webhook.FixedSchedule()}, // one attempt
			webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, _ int) {
				http.Error(w, "db down", http.StatusInternalServerError)
			}))
		f := newFakeT(t)
		start := time.Now()
		if dl := webhooktest.AssertDelivered(f, w.d, w.ev.ID, w.ep.ID, time.Minute); dl != nil {
			t.Fatalf("passed: %+v", dl)
		}
		if el := time.Since(start); el > 30*time.Second {
			t.Errorf("waited %s for a delivery that had already failed", el)
		}
		for _, want := range []string{"the delivery failed", `last error "HTTP 500"`, "attempt 1: HTTP 500", `answered "db down\n"`} {
			if !strings.Contains(f.failures(), want) {
				t.Errorf("failure lacks %q:\n%s", want, f.failures())
			}
		}
	})
	t.Run("still pending at the deadline", func(t *testing.T) {
		release := make(chan struct{})
		w := newWorld(t, nil, webhooktest.WithResponder(func(http.ResponseWriter, *http.Request, int) { <-release }))
		defer close(release)
		w.rcv.WaitFor(t, 1, wait)
		f := newFakeT(t)
		start := time.Now()
		if dl := webhooktest.AssertDelivered(f, w.d, w.ev.ID, w.ep.ID, 100*time.Millisecond); dl != nil {
			t.Fatalf("passed: %+v", dl)
		}
		if el := time.Since(start); el < 100*time.Millisecond {
			t.Errorf("gave up after %s, before the deadline", el)
		}
		if !strings.Contains(f.failures(), "within 100ms: the delivery is still pending (0 attempts)") {
			t.Errorf("failure: %s", f.failures())
		}
	})
	t.Run("no such delivery", func(t *testing.T) {
		w := newWorld(t, nil)
		other, err := w.d.Publish(context.Background(), webhook.Event{Type: "vote.cast", TenantID: "acme"}) // filtered out
		if err != nil {
			t.Fatal(err)
		}
		f := newFakeT(t)
		if dl := webhooktest.AssertDelivered(f, w.d, other.ID, w.ep.ID, 50*time.Millisecond); dl != nil {
			t.Fatalf("passed: %+v", dl)
		}
		if !strings.Contains(f.failures(), "no such delivery") {
			t.Errorf("failure: %s", f.failures())
		}
	})
	t.Run("bad input", func(t *testing.T) {
		w := newWorld(t, nil)
		f := newFakeT(t)
		start := time.Now()
		if dl := webhooktest.AssertDelivered(f, w.d, "", w.ep.ID, time.Minute); dl != nil {
			t.Fatal("passed")
		}
		if time.Since(start) > 30*time.Second || !strings.Contains(f.failures(), "required") {
			t.Errorf("failure after %s: %s", time.Since(start), f.failures())
		}
	})
}

func TestAssertNotDeliveredFails(t *testing.T) {
	w := newWorld(t, nil)
	webhooktest.AssertDelivered(t, w.d, w.ev.ID, w.ep.ID, wait)
	f := newFakeT(t)
	start := time.Now()
	if webhooktest.AssertNotDelivered(f, w.d, w.ev.ID, w.ep.ID, time.Minute) {
		t.Fatal("passed")
	}
	if time.Since(start) > 30*time.Second {
		t.Error("did not fail as soon as the delivery was seen")
	}
	if !strings.Contains(f.failures(), "was delivered to endpoint") || !strings.Contains(f.failures(), "attempt 1: HTTP 204, success") {
		t.Errorf("failure: %s", f.failures())
	}
}

func TestAssertReceived(t *testing.T) {
	t.Run("unverified", func(t *testing.T) {
		bad := webhooktest.NewReceiver(t, webhooktest.WithSecrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
		d := webhooktest.NewMemDispatcher(t, nil)
		ep, _, err := d.CreateEndpoint(context.Background(), webhook.EndpointParams{URL: bad.URL()})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := d.Publish(context.Background(), webhook.Event{Type: "post.created"})
		if err != nil {
			t.Fatal(err)
		}
		webhooktest.AssertDelivered(t, d, ev.ID, ep.ID, wait)
		f := newFakeT(t)
		if _, ok := webhooktest.AssertReceived(f, bad, ev.ID, 50*time.Millisecond); ok {
			t.Fatal("passed")
		}
		if !strings.Contains(f.failures(), "request 1 did not verify: webhook: no matching signature") {
			t.Errorf("failure: %s", f.failures())
		}
	})
	t.Run("nothing", func(t *testing.T) {
		rcv := webhooktest.NewReceiver(t)
		f := newFakeT(t)
		if _, ok := webhooktest.AssertReceived(f, rcv, "evt_none", 20*time.Millisecond); ok {
			t.Fatal("passed")
		}
		if !strings.Contains(f.failures(), "none of its 0 requests carries that webhook-id") {
			t.Errorf("failure: %s", f.failures())
		}
		if !webhooktest.AssertNotReceived(f, rcv, "evt_none", 20*time.Millisecond) {
			t.Errorf("AssertNotReceived failed: %s", f.failures())
		}
	})
	t.Run("AssertNotReceived fails", func(t *testing.T) {
		w := newWorld(t, nil)
		f := newFakeT(t)
		if webhooktest.AssertNotReceived(f, w.rcv, w.ev.ID, time.Minute) {
			t.Fatal("passed")
		}
		if !strings.Contains(f.failures(), "got request 1 for event") {
			t.Errorf("failure: %s", f.failures())
		}
	})
}

// TestScriptedAttempts: a receiver scripted to answer 500, 429 with
// Retry-After, a slow answer past the request timeout and then 204; the
// attempt log shows each.
func TestScriptedAttempts(t *testing.T) {
	w := newWorld(t, &webhook.Config{
		Retry:          webhook.FixedSchedule(time.Millisecond, time.Millisecond, time.Millisecond),
		RequestTimeout: 200 * time.Millisecond,
		Lease:          time.Minute,
	}, webhooktest.WithResponder(webhooktest.Sequence(
		webhooktest.Status(http.StatusInternalServerError),
		webhooktest.RetryAfter(http.StatusTooManyRequests, 0),
		webhooktest.Delay(time.Hour, nil),
		webhooktest.Status(http.StatusNoContent),
	)))
	as := webhooktest.WaitForAttempts(t, w.d, w.ev.ID, w.ep.ID, 4, wait)
	if got, want := webhooktest.StatusCodes(as), []int{500, 429, 0, 204}; !equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if as[2].Error == "" || !as[3].Success {
		t.Errorf("attempts %+v %+v", as[2], as[3])
	}
	if got := webhooktest.Attempts(t, w.d, w.ev.ID, w.ep.ID); len(got) != 4 {
		t.Errorf("Attempts: %d", len(got))
	}

	f := newFakeT(t)
	if f.run(func() { webhooktest.WaitForAttempts(f, w.d, w.ev.ID, w.ep.ID, 5, 30*time.Millisecond) }) {
		t.Fatal("WaitForAttempts returned")
	}
	if !strings.Contains(f.failures(), "has 4 attempts after 30ms, want at least 5") {
		t.Errorf("failure: %s", f.failures())
	}
	f = newFakeT(t)
	if f.run(func() { webhooktest.Attempts(f, w.d, "missing", w.ep.ID) }) {
		t.Fatal("Attempts returned")
	}
	if !strings.Contains(f.failures(), `no delivery of event "missing"`) {
		t.Errorf("failure: %s", f.failures())
	}
}

// TestGoneDisables: a receiver scripted to answer 410 disables its
// endpoint at once.
func TestGoneDisables(t *testing.T) {
	w := newWorld(t, nil, webhooktest.WithStatus(http.StatusGone))
	f := newFakeT(t)
	webhooktest.AssertDelivered(f, w.d, w.ev.ID, w.ep.ID, wait)
	if !strings.Contains(f.failures(), "the delivery failed") {
		t.Errorf("failure: %s", f.failures())
	}
	ep, err := w.d.GetEndpoint(context.Background(), w.ep.ID)
	if err != nil || !ep.Disabled {
		t.Errorf("endpoint after 410: %+v, %v", ep, err)
	}
}

func TestStartDispatcher(t *testing.T) {
	ctx := context.Background()
	t.Run("loopback allowed, caller's config untouched, shut down at cleanup", func(t *testing.T) {
		cfg := &webhook.Config{}
		f := newFakeT(t)
		d := webhooktest.StartDispatcher(f, memstore.New(), cfg)
		if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "http://127.0.0.1:1/"}); err != nil {
			t.Errorf("loopback endpoint: %v", err)
		}
		if cfg.AllowPrivateNetworks || cfg.PollInterval != 0 {
			t.Errorf("the caller's Config changed: %+v", cfg)
		}
		f.finish()
		if err := d.Start(ctx); !errors.Is(err, webhook.ErrStopped) {
			t.Errorf("after cleanup, Start = %v; want ErrStopped (Shutdown ran)", err)
		}
		if f.failures() != "" {
			t.Errorf("failures: %s", f.failures())
		}
	})
	t.Run("a Client of the caller's: loopback endpoints still allowed", func(t *testing.T) {
		// The dial-time guard of the Client is the caller's business; the
		// check at creation lets a Receiver's URL in.
		d := webhooktest.StartDispatcher(t, memstore.New(), &webhook.Config{Client: webhook.NewClient(false, 2)})
		if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "http://127.0.0.1:1/"}); err != nil {
			t.Errorf("loopback endpoint: %v", err)
		}
	})
	t.Run("a bad config fails the test", func(t *testing.T) {
		f := newFakeT(t)
		if f.run(func() { webhooktest.NewMemDispatcher(f, &webhook.Config{Workers: -1}) }) {
			t.Fatal("returned")
		}
		if !strings.Contains(f.failures(), "webhooktest: NewDispatcher: ") {
			t.Errorf("failure: %s", f.failures())
		}
	})
}
