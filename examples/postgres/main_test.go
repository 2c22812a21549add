package main

import (
	"os"
	"testing"
)

// TestPostgres runs the example as CI would, on the server
// scripts/with-postgres.sh started (make test does). Without one it skips,
// except under CI=true.
func TestPostgres(t *testing.T) {
	if databaseURL() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no PostgreSQL (OUTHOOK_TEST_POSTGRES_URL or DATABASE_URL) and CI=true")
		}
		t.Skip("no PostgreSQL: run through scripts/with-postgres.sh")
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
}
