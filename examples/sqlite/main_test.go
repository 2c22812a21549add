package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLite runs the example twice on one file: the second run finds the
// endpoint and the log of the first.
func TestSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "example.db")
	var first, second bytes.Buffer
	if err := run(path, &first); err != nil {
		t.Fatalf("first run: %v\n%s", err, first.String())
	}
	if err := run(path, &second); err != nil {
		t.Fatalf("second run: %v\n%s", err, second.String())
	}
	if !strings.Contains(second.String(), "from an earlier run") || !strings.Contains(second.String(), "holds 6 deliveries (6 succeeded)") {
		t.Fatalf("the second run did not find the first run's state:\n%s", second.String())
	}
}
