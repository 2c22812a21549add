package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestStatsPlan fills 1000 endpoints with 100,000 deliveries over 30 days
// (5 % pending, the rest ended) and as many attempts, then runs Stats with
// auto_explain reporting the plans of its queries: the backlog of every
// endpoint (what the gauges read), one tenant with a 24 h window (what a
// portal reads), and every endpoint with a 24 h window. None may read the
// deliveries or attempts table whole.
func TestStatsPlan(t *testing.T) {
	const rows = 100_000
	db, pl := planSession(t)
	ctx := context.Background()
	s := newStore(t, db, sqlstore.Postgres, nil)

	const day = int64(86400) * 1e9
	fill := []string{
		`INSERT INTO outhook_endpoints (id, tenant_id, url, method, content_type, disabled, created_at, updated_at)
		 SELECT 'ep-' || i, 'tenant-' || (i % 100), 'https://example.com/' || i, 'POST', 'application/json',
		   CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END, 0, 0
		 FROM generate_series(1, 1000) AS i`,
		`INSERT INTO outhook_deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
		   next_attempt_at, due_at, last_error, created_at, updated_at)
		 SELECT 'd-' || i, 'ev-' || i, 'post.created', 'tenant-' || ((1 + i % 1000) % 100), 'ep-' || (1 + i % 1000),
		   CASE WHEN i % 20 = 0 THEN 'pending' WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END,
		   1, i::bigint * (30 * 86400000000000 / $1::int), i::bigint * (30 * 86400000000000 / $1::int), '',
		   i::bigint * (30 * 86400000000000 / $1::int), i::bigint * (30 * 86400000000000 / $1::int)
		 FROM generate_series(1, $1::int) AS i`,
		`INSERT INTO outhook_attempts (id, delivery_id, event_id, endpoint_id, number, started_at, duration_ns,
		   status_code, success)
		 SELECT 'a-' || i, 'd-' || i, 'ev-' || i, 'ep-' || (1 + i % 1000), 1, i::bigint * (30 * 86400000000000 / $1::int),
		   1000000, CASE WHEN i % 7 = 0 THEN 500 ELSE 200 END, CASE WHEN i % 7 = 0 THEN 0 ELSE 1 END
		 FROM generate_series(1, $1::int) AS i`,
		// What autovacuum does on a live table: statistics, and the
		// visibility map that index-only scans need.
		`VACUUM ANALYZE outhook_endpoints`, `VACUUM ANALYZE outhook_deliveries`, `VACUUM ANALYZE outhook_attempts`,
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
	for _, q := range []string{`LOAD 'auto_explain'`, `SET auto_explain.log_min_duration = 0`,
		`SET auto_explain.log_analyze = on`, `SET auto_explain.log_nested_statements = on`, `SET client_min_messages = log`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Skipf("%s: %v: cannot capture plans on this server", q, err)
		}
	}
	now := time.Unix(0, 30*day) // the end of the 30 days filled

	cases := []struct {
		name string
		p    webhook.StatsParams
	}{
		{"backlog of every endpoint", webhook.StatsParams{Now: now}},
		{"one tenant, 24 h window, by endpoint", webhook.StatsParams{Now: now, Window: 24 * time.Hour, TenantID: "tenant-1", ByEndpoint: true}},
		{"every endpoint, 24 h window", webhook.StatsParams{Now: now, Window: 24 * time.Hour}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl.reset()
			start := time.Now()
			st, err := s.Stats(ctx, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("Stats took %s (plans logged with ANALYZE): pending %d, oldest %s, succeeded %d, failed %d, deliveries failed %d, disabled %d",
				time.Since(start).Round(time.Microsecond), st.Pending, st.OldestPendingAt.UTC(), st.Succeeded, st.Failed,
				st.DeliveriesFailed, st.EndpointsDisabled)
			if st.Pending == 0 || (tc.p.TenantID == "" && st.EndpointsDisabled == 0) || (tc.p.Window > 0 && st.Succeeded == 0) {
				t.Errorf("the fill has pending deliveries, disabled endpoints and attempts: %+v", st.Counts)
			}
			var n int
			for _, plan := range pl.all() {
				if !strings.Contains(plan, "outhook_") {
					continue
				}
				n++
				t.Logf("%s", plan)
				for _, tbl := range []string{"outhook_deliveries", "outhook_attempts"} {
					if strings.Contains(plan, "Seq Scan on "+tbl) {
						t.Errorf("reads the whole of %s", tbl)
					}
				}
			}
			if n == 0 {
				t.Fatal("no plan captured")
			}
		})
	}
}
