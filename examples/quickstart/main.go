// Command quickstart shows outhook end to end in a few seconds, with
// nothing to install: three receivers on loopback (one that verifies
// signatures, one that fails twice before it succeeds, one that is dead),
// a Dispatcher on the in-memory store with short retry delays, a stream of
// published events, a live log of every attempt, the dead endpoint disabled
// after five failed deliveries, and a summary.
//
//	go run ./examples/quickstart
//
// It exits 1 if anything did not happen as described.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/verify"
)

const tenant = "acme"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Printf("%6.2fs  "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
	}

	// 1. Three customer servers on loopback.
	good := newGoodReceiver()
	defer good.Close()
	var flakyCalls sync.Map // event ID -> *atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := flakyCalls.LoadOrStore(r.Header.Get("webhook-id"), new(atomic.Int32))
		if n.(*atomic.Int32).Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "warming up")
		}
	}))
	defer flaky.Close()
	deadURL, err := closedPort()
	if err != nil {
		return err
	}

	// 2. A dispatcher. Loopback needs AllowPrivateNetworks; the retry delays
	// are short so the demo is quick (the default is 60 s, 120 s, 240 s).
	deadDisabled := make(chan struct{})
	var disabledOnce sync.Once
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
		AllowPrivateNetworks: true,
		Retry:                webhook.FixedSchedule(100*time.Millisecond, 200*time.Millisecond), // 3 attempts
		PollInterval:         20 * time.Millisecond,
		OnAttempt: func(r webhook.AttemptResult) {
			a := r.Attempt
			what := fmt.Sprintf("HTTP %d", a.StatusCode)
			if a.StatusCode == 0 {
				what = a.Error
			}
			switch r.Outcome {
			case webhook.OutcomeSuccess:
				logf("%-8s %-13s attempt %d  %s  delivered", r.Endpoint.Name, r.EventType, a.Number, what)
			case webhook.OutcomeRetry:
				logf("%-8s %-13s attempt %d  %s  retry in %s", r.Endpoint.Name, r.EventType, a.Number, what, r.RetryAt.Sub(time.Now()).Round(10*time.Millisecond))
			default:
				logf("%-8s %-13s attempt %d  %s  FAILED (%d consecutive failed deliveries)", r.Endpoint.Name, r.EventType, a.Number, what, r.Endpoint.ConsecutiveFailures)
			}
		},
		OnEndpointDisabled: func(ep webhook.Endpoint) {
			logf("%-8s DISABLED: %s", ep.Name, ep.DisabledReason)
			disabledOnce.Do(func() { close(deadDisabled) })
		},
	})
	if err != nil {
		return err
	}
	if err := d.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = d.Shutdown(sctx)
	}()

	// 3. The customer registers three endpoints. Each gets its own secret,
	// returned once.
	endpoints := map[string]*webhook.Endpoint{}
	for _, p := range []webhook.EndpointParams{
		{TenantID: tenant, Name: "good", URL: good.URL},
		{TenantID: tenant, Name: "flaky", URL: flaky.URL, Events: []string{"post.*"}},
		{TenantID: tenant, Name: "dead", URL: deadURL},
	} {
		ep, secret, err := d.CreateEndpoint(ctx, p)
		if err != nil {
			return err
		}
		endpoints[p.Name] = ep
		if p.Name == "good" {
			good.setSecret(secret)
		}
		logf("endpoint %-5s created  events=%v  (its %d-character secret is returned once; never log it)", p.Name, orAll(p.Events), len(secret))
	}

	// 4. The application publishes events from its handlers. Publish
	// returns at once; delivery happens in the background.
	types := []string{"post.created", "vote.cast", "post.updated", "vote.cast", "post.created"}
	for i, typ := range types {
		ev, err := d.Publish(ctx, webhook.Event{Type: typ, TenantID: tenant, Data: map[string]any{"n": i + 1, "title": "Dark mode <please>"}})
		if err != nil {
			return err
		}
		logf("published %-13s id=%s", typ, ev.ID[:8])
		time.Sleep(150 * time.Millisecond)
	}

	// 5. The dead endpoint fails five deliveries in a row and is disabled.
	select {
	case <-deadDisabled:
	case <-time.After(20 * time.Second):
		return fmt.Errorf("the dead endpoint was never disabled")
	}
	ev, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: tenant, Data: map[string]any{"n": 6}})
	if err != nil {
		return err
	}
	logf("published %-13s id=%s  (no delivery for the disabled endpoint)", ev.Type, ev.ID[:8])
	if err := waitIdle(ctx, d, 20*time.Second); err != nil {
		return err
	}

	// 6. Summary, read back from the store as a customer dashboard would.
	fmt.Println()
	fmt.Println("endpoint  delivered  failed  consecutive failures  state")
	for _, name := range []string{"good", "flaky", "dead"} {
		ep, err := d.GetEndpoint(ctx, endpoints[name].ID)
		if err != nil {
			return err
		}
		ok, failed := count(ctx, d, ep.ID, webhook.StateSucceeded), count(ctx, d, ep.ID, webhook.StateFailed)
		state := "active"
		if ep.Disabled {
			state = "disabled: " + ep.DisabledReason
		}
		fmt.Printf("%-8s  %9d  %6d  %20d  %s\n", name, ok, failed, ep.ConsecutiveFailures, state)
	}
	fmt.Printf("\nthe good receiver verified %d of %d signatures\n", good.verified.Load(), good.received.Load())
	fmt.Printf("done in %.1fs\n", time.Since(start).Seconds())

	// Exit non-zero if the demo did not show what it promises.
	dead, _ := d.GetEndpoint(ctx, endpoints["dead"].ID)
	switch {
	case good.received.Load() != 6 || good.verified.Load() != 6:
		return fmt.Errorf("good receiver got %d events, verified %d; want 6 and 6", good.received.Load(), good.verified.Load())
	case count(ctx, d, endpoints["flaky"].ID, webhook.StateSucceeded) != 4:
		return fmt.Errorf("flaky endpoint should have received its 4 post.* events after retries")
	case !dead.Disabled || dead.ConsecutiveFailures != 5:
		return fmt.Errorf("dead endpoint: disabled=%v failures=%d, want disabled after 5", dead.Disabled, dead.ConsecutiveFailures)
	}
	return nil
}

// goodReceiver verifies every delivery the way a customer's server would.
type goodReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	verifier verify.Standard
	received atomic.Int32
	verified atomic.Int32
}

func newGoodReceiver() *goodReceiver {
	g := &goodReceiver{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		g.received.Add(1)
		g.mu.Lock()
		v := g.verifier
		g.mu.Unlock()
		if err := v.Verify(r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		g.verified.Add(1)
	}))
	return g
}

func (g *goodReceiver) setSecret(s string) {
	g.mu.Lock()
	g.verifier = verify.Standard{Secrets: []string{s}}
	g.mu.Unlock()
}

// closedPort returns a loopback URL nothing listens on.
func closedPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/webhooks", nil
}

// waitIdle waits until no delivery is pending.
func waitIdle(ctx context.Context, d *webhook.Dispatcher, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		ds, _, err := d.ListDeliveries(ctx, webhook.DeliveryFilter{State: webhook.StatePending, Limit: 1})
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("deliveries still pending after %s", limit)
}

func count(ctx context.Context, d *webhook.Dispatcher, endpointID string, state webhook.DeliveryState) int {
	n, cursor := 0, ""
	for {
		ds, next, err := d.ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: endpointID, State: state, Cursor: cursor})
		if err != nil {
			return -1
		}
		n += len(ds)
		if next == "" {
			return n
		}
		cursor = next
	}
}

func orAll(events []string) any {
	if len(events) == 0 {
		return "all"
	}
	return events
}
