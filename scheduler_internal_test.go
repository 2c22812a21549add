package webhook

import (
	"context"
	"fmt"
	"testing"
)

// deleteOnlyStore is a Store of which DeleteEndpoint alone is used.
type deleteOnlyStore struct{ Store }

func (deleteOnlyStore) DeleteEndpoint(context.Context, string) error { return nil }

// The endpoints dropReady drops are remembered only while a Claim is on
// its way (for claimBatch to give that Claim's claims of them back): a
// Dispatcher that is never started (it publishes and manages endpoints,
// the workers run elsewhere) or one after Shutdown runs no Claim, and
// must not keep every endpoint it ever changed or deleted.
func TestDropsRememberedOnlyWhileClaiming(t *testing.T) {
	d, err := NewDispatcher(deleteOnlyStore{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10000 {
		if err := d.DeleteEndpoint(context.Background(), fmt.Sprintf("ep_%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	d.mu.Lock()
	n := len(d.droppedNow)
	d.mu.Unlock()
	if n > 0 {
		t.Fatalf("%d endpoints remembered with no Claim on its way", n)
	}
}
