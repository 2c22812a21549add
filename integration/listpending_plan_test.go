package integration

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestListPendingByEndpointPlan: the log's page of an endpoint's pending
// deliveries (ListDeliveries with EndpointID and State pending, what a
// portal shows for a backed-up endpoint) on an endpoint with 20,000 old
// pending deliveries (retrying) and 200,000 newer ended ones. With
// deliveries_pending_idx (endpoint_id, created_at) WHERE pending it reads
// about a page of index entries. Without it (dropping it was tried, its
// rows being also in deliveries_ordered_idx, which serves Stats as well)
// the page read every pending row of the endpoint (and sorted them) or
// filtered its whole history.
func TestListPendingByEndpointPlan(t *testing.T) {
	db, pl := planSession(t)
	ctx := context.Background()
	s := newStore(t, db, sqlstore.Postgres, nil)
	fill := []string{
		`INSERT INTO outhook_endpoints (id, tenant_id, url, method, content_type, created_at, updated_at)
		 SELECT 'ep-' || i, 'tenant-1', 'https://example.com/' || i, 'POST', 'application/json', 0, 0
		 FROM generate_series(1, 10) AS i`,
		`INSERT INTO outhook_deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
		   next_attempt_at, due_at, last_error, created_at, updated_at)
		 SELECT 'd-' || i, 'ev-' || i, 'post.created', 'tenant-1', 'ep-' || (1 + i % 10),
		   CASE WHEN i <= 200000 AND i % 10 = 1 THEN 'pending' ELSE 'succeeded' END, 1,
		   i::bigint * 1000000000, i::bigint * 1000000000, '', i::bigint * 1000000000, i::bigint * 1000000000
		 FROM generate_series(1, 2200000) AS i WHERE i % 10 = 1 OR i > 200000 AND i % 10 = 0`,
		`VACUUM ANALYZE outhook_deliveries`,
	}
	execAll(t, db, fill...)
	var pending, ended int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state <> 'pending')
		FROM outhook_deliveries WHERE endpoint_id = 'ep-2'`).Scan(&pending, &ended); err != nil {
		t.Fatal(err)
	}
	t.Logf("ep-2: %d pending, %d ended", pending, ended)
	explainAll(t, db)
	page, _, err := s.ListDeliveries(ctx, webhook.DeliveryFilter{EndpointID: "ep-2", State: webhook.StatePending, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SET client_min_messages = notice`); err != nil {
		t.Fatal(err)
	}
	if len(page) != 50 {
		t.Fatalf("page of %d, want 50", len(page))
	}
	var plan string
	for _, p := range pl.all() {
		if strings.Contains(p, "ORDER BY created_at DESC") {
			plan = p
		}
	}
	if plan == "" {
		t.Fatal("no plan captured")
	}
	most := 0
	for _, m := range regexp.MustCompile(`(?:actual time=[0-9.]+\.\.[0-9.]+ rows=|Rows Removed by Filter: )([0-9]+)`).FindAllStringSubmatch(plan, -1) {
		n, _ := strconv.Atoi(m[1])
		most = max(most, n)
	}
	if most > 1000 {
		t.Fatalf("a page of 50 pending deliveries reads %d rows of the endpoint; plan:\n%s", most, plan)
	}
}
