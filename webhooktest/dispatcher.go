package webhooktest

import (
	"context"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// Defaults StartDispatcher applies for tests.
const (
	// PollInterval is the Config.PollInterval StartDispatcher uses when
	// the caller leaves it zero: short, so that retries scheduled a few
	// milliseconds ahead go out at once rather than at the next
	// one-second poll.
	PollInterval = 10 * time.Millisecond
	// ShutdownTimeout bounds the Shutdown StartDispatcher runs when the
	// test ends.
	ShutdownTimeout = 10 * time.Second
)

// StartDispatcher creates a Dispatcher on store with a copy of cfg (nil
// means every default), starts it, and shuts it down when the test ends
// (t.Cleanup), failing the test if Shutdown does not finish cleanly within
// ShutdownTimeout. It fails the test at once if NewDispatcher or Start
// fails.
//
// For tests it changes two settings of the copy: AllowPrivateNetworks is
// always set, so endpoints may point at a Receiver on loopback (a Client
// of cfg's own still decides how to connect: webhook.NewClient(false, n)
// keeps the guard at dial time); and a zero PollInterval becomes
// PollInterval (10 ms). To test the check of endpoint URLs at creation,
// call webhook.NewDispatcher: those methods need no Start.
//
// Cleanups run last-registered first: a Receiver created before the
// Dispatcher is closed after it is shut down.
func StartDispatcher(t testing.TB, store webhook.Store, cfg *webhook.Config) *webhook.Dispatcher {
	t.Helper()
	var c webhook.Config
	if cfg != nil {
		c = *cfg
	}
	c.AllowPrivateNetworks = true
	if c.PollInterval == 0 {
		c.PollInterval = PollInterval
	}
	d, err := webhook.NewDispatcher(store, &c)
	if err != nil {
		t.Fatalf("webhooktest: NewDispatcher: %v", err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatalf("webhooktest: Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("webhooktest: Dispatcher.Shutdown: %v", err)
		}
	})
	return d
}

// NewMemDispatcher is StartDispatcher on a fresh memstore: the quickest
// way to a running Dispatcher in a unit test.
func NewMemDispatcher(t testing.TB, cfg *webhook.Config) *webhook.Dispatcher {
	t.Helper()
	return StartDispatcher(t, memstore.New(), cfg)
}
