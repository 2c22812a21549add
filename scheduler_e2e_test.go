package webhook_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// TestHangingEndpointTiesUpOneAttempt: an endpoint that accepts and never
// answers starts with the full allowance, loses it to timeouts, and from
// then on holds one attempt while a healthy endpoint's deliveries go out.
func TestHangingEndpointTiesUpOneAttempt(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var open, peak atomic.Int64
	var conns sync.WaitGroup
	done := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.Close()
				n := open.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				go func() { <-done; c.Close() }()
				_, _ = io.Copy(io.Discard, c) // never answers; ends when the client gives up
				open.Add(-1)
			}()
		}
	}()
	t.Cleanup(func() { close(done); ln.Close(); conns.Wait() })

	var healthy atomic.Int64
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		healthy.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(ok.Close)

	const timeout = 300 * time.Millisecond
	d := startMemDispatcher(t, &webhook.Config{
		AllowPrivateNetworks:   true,
		Workers:                4,
		MaxInFlightPerEndpoint: 4,
		RequestTimeout:         timeout,
		Lease:                  5 * time.Second,
		DisableAfter:           -1,
		Retry:                  webhook.FixedSchedule(10*time.Millisecond, 10*time.Millisecond, 10*time.Millisecond),
	})
	mustEndpoint(t, d, "hang", "http://"+ln.Addr().String()+"/")
	mustEndpoint(t, d, "ok", ok.URL)
	for i := 0; i < 8; i++ {
		mustPublish(t, d, "hang")
	}
	time.Sleep(3 * timeout) // the allowance halves twice: 4, 2, 1
	peak.Store(open.Load())
	for i := 0; i < 30; i++ {
		mustPublish(t, d, "ok")
	}
	deadline := time.Now().Add(5 * time.Second)
	for healthy.Load() < 30 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if healthy.Load() < 30 {
		t.Fatalf("the healthy endpoint got %d of 30 deliveries beside a hanging one", healthy.Load())
	}
	if p := peak.Load(); p > 2 {
		t.Fatalf("the hanging endpoint held %d attempts at once after its timeouts; want its allowance, 1 (2 while one ends)", p)
	}
}

// startMemDispatcher starts a memstore Dispatcher and shuts it down at
// cleanup.
func startMemDispatcher(t *testing.T, cfg *webhook.Config) *webhook.Dispatcher {
	t.Helper()
	d, err := webhook.NewDispatcher(memstore.New(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Shutdown(ctx)
	})
	return d
}

// mustEndpoint creates an endpoint of tenant at url.
func mustEndpoint(t *testing.T, d *webhook.Dispatcher, tenant, url string) {
	t.Helper()
	if _, _, err := d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: tenant, URL: url}); err != nil {
		t.Fatal(err)
	}
}

// mustPublish publishes a post.created event to tenant.
func mustPublish(t *testing.T, d *webhook.Dispatcher, tenant string) {
	t.Helper()
	if _, err := d.Publish(context.Background(), webhook.Event{Type: "post.created", TenantID: tenant, Data: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
}
