package main

import "testing"

// TestQuickstart runs the main job as CI would: it must show everything it
// promises (verified signatures, retries that succeed, the dead endpoint
// disabled after five failed deliveries) and finish.
func TestQuickstart(t *testing.T) {
	if err := run(); err != nil {
		t.Fatal(err)
	}
}
