package integration

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
	"github.com/outhook/webhook/webhooktest"
)

// instances starts n Dispatchers, each on a pool of its own (as separate
// processes would be) over one PostgreSQL schema.
func instances(t *testing.T, n int, cfg webhook.Config) []*webhook.Dispatcher {
	t.Helper()
	// The default lease (2 min) on purpose: it is longer than the tests'
	// waits, so a delivery left leased with nobody to send it (as dropped
	// claims ahead were, after a disable: TestAutoDisableGivesBackClaimsAhead)
	// fails them rather than being waited out.
	u := pgSchema(t)
	var ds []*webhook.Dispatcher
	for i := 0; i < n; i++ {
		s := newStore(t, openPGURL(t, u), sqlstore.Postgres, &sqlstore.Options{WaitForNotification: pgxWait})
		ds = append(ds, webhooktest.StartDispatcher(t, s, &cfg))
	}
	return ds
}

// TestInstancesNoDoubleSend: three instances share the work; while leases
// are live no delivery is sent twice, and every one is sent.
func TestInstancesNoDoubleSend(t *testing.T) {
	pgURL(t)
	ctx := context.Background()
	ds := instances(t, 3, webhook.Config{Workers: 8, PollInterval: 50 * time.Millisecond})
	var rcvs []*receiver
	for i := 0; i < 3; i++ {
		r := newReceiver(t, 2*time.Millisecond)
		rcvs = append(rcvs, r)
		if _, _, err := ds[i].CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: r.URL}); err != nil {
			t.Fatal(err)
		}
	}
	const events = 300
	for i := 0; i < events; i++ {
		if _, err := ds[i%3].Publish(ctx, webhook.Event{ID: fmt.Sprintf("evt-%d", i), Type: "post.created", TenantID: "acme", Data: i}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "every event at every endpoint", func() bool {
		for _, r := range rcvs {
			if n, _ := r.total(); n < events {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond)
	for i, r := range rcvs {
		distinct, all := r.total()
		if distinct != events || all != events {
			t.Fatalf("endpoint %d: %d distinct events in %d requests, want %d in %d", i, distinct, all, events, events)
		}
	}
}

// TestInstancesCountersExact: failures completed concurrently by three
// instances are all counted (no lost update), and the disable threshold is
// crossed exactly once.
func TestInstancesCountersExact(t *testing.T) {
	pgURL(t)
	ctx := context.Background()
	tests := []struct {
		name         string
		disableAfter int
		events       int
		wantFailures int
		wantDisabled bool
	}{
		{name: "never disables: every failure counted", disableAfter: -1, events: 60, wantFailures: 60},
		{name: "disables at 10 exactly", disableAfter: 10, events: 60, wantFailures: 10, wantDisabled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var disabledCalls atomic.Int32
			ds := instances(t, 3, webhook.Config{
				Workers: 8, PollInterval: 50 * time.Millisecond, DisableAfter: tt.disableAfter,
				OnEndpointDisabled: func(webhook.Endpoint) { disabledCalls.Add(1) },
			})
			rcv := newReceiver(t, 3*time.Millisecond)
			rcv.status.Store(http.StatusInternalServerError)
			ep, _, err := ds[0].CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rcv.URL, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tt.events; i++ {
				if _, err := ds[i%3].Publish(ctx, webhook.Event{Type: "post.created", TenantID: "acme", Data: i}); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 60*time.Second, "every delivery ended", func() bool {
				page, _, err := ds[0].ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: ep.ID, State: webhook.StatePending})
				return err == nil && len(page) == 0
			})
			time.Sleep(200 * time.Millisecond) // in-flight Completes that will lose their lease
			got, err := ds[1].GetEndpoint(ctx, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ConsecutiveFailures != tt.wantFailures || got.Disabled != tt.wantDisabled {
				t.Fatalf("ConsecutiveFailures = %d, Disabled = %v; want %d, %v", got.ConsecutiveFailures, got.Disabled, tt.wantFailures, tt.wantDisabled)
			}
			want := int32(0)
			if tt.wantDisabled {
				want = 1
			}
			if n := disabledCalls.Load(); n != want {
				t.Fatalf("OnEndpointDisabled called %d times across instances, want %d", n, want)
			}
			// Deliveries that failed by their own attempt = the count.
			failedByAttempt := 0
			cursor := ""
			for {
				page, next, err := ds[2].ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: ep.ID, Limit: 25, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range page {
					if d.State == webhook.StateFailed && d.LastError != webhook.ReasonEndpointDisabled {
						failedByAttempt++
					}
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if failedByAttempt != tt.wantFailures {
				t.Fatalf("%d deliveries failed by their attempt, want %d", failedByAttempt, tt.wantFailures)
			}
		})
	}
}
