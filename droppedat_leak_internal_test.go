package webhook

import (
	"context"
	"fmt"
	"testing"
)

// deleteOnlyStore is a Store of which DeleteEndpoint alone is used.
type deleteOnlyStore struct{ Store }

func (deleteOnlyStore) DeleteEndpoint(context.Context, string) error { return nil }

// Review: a Dispatcher that is never started (one that only publishes and
// manages endpoints, the workers running elsewhere), or one after
// Shutdown, never runs claimBatch, the only place droppedAt is cleared:
// every endpoint it ever changes, disables or deletes stays in the map.
func TestReviewDroppedAtGrowsWithoutClaims(t *testing.T) {
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
	n := len(d.droppedAt)
	d.mu.Unlock()
	if n > 0 {
		t.Fatalf("droppedAt holds %d endpoints with no Claim on its way (never started)", n)
	}
}
