package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestCompleteBatchPlanSmallTable: recording a batch of 100 successes
// looks its deliveries up by primary key on a table of 10,000 rows, the
// size of most applications' tables. Written as a join or an IN list
// over the unnested IDs, the lookup was planned as a read of the whole
// table below some 15,000 rows (the planner knows the batch's 100 IDs and
// costs 100 index probes above one sequential scan), on every batch. Both
// ways of recording are checked: the general one (the endpoint is due a
// write: its first success) and the fast one (successes only, nothing to
// write on the endpoint).
func TestCompleteBatchPlanSmallTable(t *testing.T) {
	db, pl := planSession(t)
	ctx := context.Background()
	s := newStore(t, db, sqlstore.Postgres, nil)
	const rows = 10_000
	fill := []string{
		`INSERT INTO outhook_endpoints (id, tenant_id, url, method, content_type, created_at, updated_at)
		 VALUES ('ep-1', 'tenant-1', 'https://example.com/', 'POST', 'application/json', 0, 0)`,
		`INSERT INTO outhook_events (id, type, tenant_id, created_at, body)
		 SELECT 'ev-' || i, 'post.created', 'tenant-1', 0, '\x7b7d' FROM generate_series(1, ` + fmt.Sprint(rows) + `) AS i`,
		`INSERT INTO outhook_deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
		   next_attempt_at, due_at, last_error, created_at, updated_at, claim_token, leased_until)
		 SELECT 'd-' || i, 'ev-' || i, 'post.created', 'tenant-1', 'ep-1', 'pending', 0,
		   0, 0, '', 0, 0, 'tok-' || i, 4000000000000000000
		 FROM generate_series(1, ` + fmt.Sprint(rows) + `) AS i`,
		`VACUUM ANALYZE outhook_deliveries`,
		`VACUUM ANALYZE outhook_endpoints`,
	}
	execAll(t, db, fill...)
	explainAll(t, db)
	now := time.Now()
	batch := func(from int) []webhook.Completion {
		var cs []webhook.Completion
		for i := from; i < from+100; i++ {
			cs = append(cs, webhook.Completion{
				DeliveryID: fmt.Sprintf("d-%d", i), Token: fmt.Sprintf("tok-%d", i), Outcome: webhook.OutcomeSuccess, Now: now,
				Attempt: &webhook.Attempt{DeliveryID: fmt.Sprintf("d-%d", i), EndpointID: "ep-1", StartedAt: now, StatusCode: 204, Success: true},
			})
		}
		return cs
	}
	for _, way := range []struct {
		name string
		from int
	}{{"general (the endpoint is due a write)", 1}, {"fast (successes only)", 1001}} {
		pl.reset()
		res, err := s.CompleteBatch(ctx, batch(way.from))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("%s: completion %d: %v", way.name, i, r.Err)
			}
		}
		found := false
		for _, p := range pl.all() {
			if !strings.Contains(p, "WITH b AS MATERIALIZED") {
				continue
			}
			found = true
			if strings.Contains(p, "Seq Scan on outhook_deliveries") {
				t.Errorf("%s: the batch's deliveries are read by a scan of the table:\n%s", way.name, p)
			}
		}
		if !found {
			t.Fatalf("%s: no plan of the endpoints' read captured", way.name)
		}
	}
	if _, err := db.ExecContext(ctx, `SET client_min_messages = notice`); err != nil {
		t.Fatal(err)
	}
	var done int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM outhook_deliveries WHERE state = 'succeeded'`).Scan(&done); err != nil {
		t.Fatal(err)
	}
	if done != 200 {
		t.Fatalf("%d deliveries succeeded, want 200", done)
	}
}
