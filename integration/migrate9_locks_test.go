package integration

import (
	"context"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestMigrate9WaitsForNoOne: upgrading a live PostgreSQL database from
// schema version 8 to 9 while a transaction that read and wrote the
// deliveries table is still open (an application's PublishTx, a Stats
// snapshot) finishes at once, and publishing goes on meanwhile: the
// version only sets the table's fillfactor, whose lock no read or write
// waits for. (A first draft of version 9 also dropped an index, which takes
// an ACCESS EXCLUSIVE lock: the migration then queued behind the open
// transaction, and every publish and claim behind the migration.)
func TestMigrate9WaitsForNoOne(t *testing.T) {
	db, _ := openPG(t)
	ctx := context.Background()
	s := newStore(t, db, sqlstore.Postgres, nil)
	// Back to version 8, as a database deployed with the previous release.
	for _, q := range []string{
		`DELETE FROM outhook_schema_migrations WHERE version = 9`,
		`ALTER TABLE outhook_deliveries RESET (fillfactor)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// A transaction that has read and written the deliveries table and is
	// still open.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outhook_deliveries`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outhook_deliveries SET attempts = attempts WHERE id = 'none'`); err != nil {
		t.Fatal(err)
	}

	mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Migrate(mctx); err != nil {
		t.Fatalf("Migrate to version 9 with a transaction open on deliveries: %v", err)
	}
	var opts string
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class
		WHERE oid = 'outhook_deliveries'::regclass`).Scan(&opts); err != nil {
		t.Fatal(err)
	}
	if opts != "fillfactor=45" {
		t.Fatalf("deliveries' options after version 9: %q, want fillfactor=45", opts)
	}

	pctx, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	now := time.Now()
	if err := s.Enqueue(pctx, &webhook.StoredEvent{ID: "ev-1", Type: "post.created", TenantID: "t", CreatedAt: now, Body: []byte(`{}`)},
		[]*webhook.Delivery{{ID: "d-1", EventID: "ev-1", EventType: "post.created", TenantID: "t", EndpointID: "ep-x",
			State: webhook.StatePending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}}); err != nil {
		t.Fatalf("Enqueue beside the open transaction: %v", err)
	}
}
