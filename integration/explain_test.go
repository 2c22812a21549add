package integration

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// explainRowsEnv sets how many deliveries TestClaimPlan loads; the default
// keeps CI quick, OUTHOOK_EXPLAIN_ROWS=1000000 is the documented check.
const explainRowsEnv = "OUTHOOK_EXPLAIN_ROWS"

// TestClaimPlan fills the deliveries table (95 % ended, the rest pending,
// due over a day, spread over 1000 endpoints), then runs the real Claim
// and ListDeliveries with auto_explain reporting their plans to the
// client, and checks that they read indexes, not the whole table.
func TestClaimPlan(t *testing.T) {
	rows := 100_000
	if v := os.Getenv(explainRowsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", explainRowsEnv, v, err)
		}
		rows = n
	}
	db, pl := planSession(t)
	ctx := context.Background()
	s := newStore(t, db, sqlstore.Postgres, nil)

	start := time.Now()
	fill := []string{
		`INSERT INTO outhook_endpoints (id, tenant_id, url, method, content_type, created_at, updated_at)
		 SELECT 'ep-' || i, 'tenant-' || (i % 100), 'https://example.com/' || i, 'POST', 'application/json', 0, 0
		 FROM generate_series(1, 1000) AS i`,
		`INSERT INTO outhook_events (id, type, tenant_id, created_at, body)
		 SELECT 'ev-' || i, 'post.created', 'tenant-' || (i % 100), i::bigint * 1000000000, '\x7b7d'::bytea
		 FROM generate_series(1, $1::int / 4) AS i`,
		`INSERT INTO outhook_deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
		   next_attempt_at, due_at, last_error, created_at, updated_at)
		 SELECT 'd-' || i, 'ev-' || (1 + i % ($1::int / 4)), 'post.created', 'tenant-' || (i % 100), 'ep-' || (1 + i % 1000),
		   CASE WHEN i % 20 = 0 THEN 'pending' WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END,
		   1, i::bigint * (86400000000000 / $1::int), i::bigint * (86400000000000 / $1::int), '',
		   i::bigint * 1000000000, i::bigint * 1000000000
		 FROM generate_series(1, $1::int) AS i`,
		`ANALYZE outhook_endpoints`, `ANALYZE outhook_events`, `ANALYZE outhook_deliveries`,
	}
	for _, q := range fill {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, rows)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Logf("loaded %d deliveries in %s", rows, time.Since(start).Round(time.Millisecond))

	for _, q := range []string{`LOAD 'auto_explain'`, `SET auto_explain.log_min_duration = 0`,
		`SET auto_explain.log_analyze = on`, `SET auto_explain.log_buffers = on`, `SET client_min_messages = log`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			// auto_explain needs a superuser (the throwaway server's user is
			// one) and the contrib module, which a server of one's own may lack.
			t.Skipf("%s: %v: cannot capture plans on this server", q, err)
		}
	}
	// Noon of the first day: about half the pending rows are due.
	now := time.Unix(0, 43200*1000000000)
	claimStart := time.Now()
	cs, err := s.Claim(ctx, webhook.ClaimParams{Now: now, Lease: time.Minute, Limit: 16, MaxPerEndpoint: 4, InFlight: map[string]int{}})
	if err != nil {
		t.Fatal(err)
	}
	claimTook := time.Since(claimStart)
	if len(cs) != 16 {
		t.Fatalf("claimed %d, want 16", len(cs))
	}
	listStart := time.Now()
	if _, _, err := s.ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: "ep-7", Limit: 50}); err != nil {
		t.Fatal(err)
	}
	listTook := time.Since(listStart)
	if _, err := db.ExecContext(ctx, `SET client_min_messages = notice`); err != nil {
		t.Fatal(err)
	}

	var claimPlan, listPlan string
	for _, p := range pl.all() {
		switch {
		case strings.Contains(p, "SKIP LOCKED"):
			claimPlan = p
		case strings.Contains(p, "ORDER BY created_at DESC"):
			listPlan = p
		}
	}
	t.Logf("Claim of 16 at %d rows took %s; plan of its candidate query:\n%s", rows, claimTook, claimPlan)
	t.Logf("ListDeliveries by endpoint took %s; plan:\n%s", listTook, listPlan)
	for name, p := range map[string]string{"claim": claimPlan, "list": listPlan} {
		if p == "" {
			t.Fatalf("no plan captured for %s", name)
		}
		if strings.Contains(p, "Seq Scan on outhook_deliveries") {
			t.Errorf("%s scans the whole deliveries table", name)
		}
	}
	if !strings.Contains(claimPlan, "outhook_deliveries_claim_idx") {
		t.Errorf("claim does not use outhook_deliveries_claim_idx")
	}
	if !strings.Contains(listPlan, "outhook_deliveries_endpoint_idx") {
		t.Errorf("list by endpoint does not use outhook_deliveries_endpoint_idx")
	}
}
