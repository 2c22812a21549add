package integration

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// publishSQLite is a Dispatcher on a new SQLite file with one endpoint of
// tenant "t".
func publishSQLite(t testing.TB) (*webhook.Dispatcher, *sqlstore.Store) {
	t.Helper()
	db, _ := openSQLite(t, "sqlite")
	s := newStore(t, db, sqlstore.SQLite, nil)
	d, err := webhook.NewDispatcher(s, nil)
	require.NoError(t, err)
	_, _, err = d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: "t", URL: "https://example.com/hook"})
	require.NoError(t, err)
	return d, s
}

// BenchmarkPublishSQLite is one Publish (one endpoint), serial, on SQLite
// (WAL), against BenchmarkBareInsertSQLite, one autocommitted INSERT of
// the same event row: the bench harness's "SQLite Publish p50" in
// miniature. cpu-ns/op is the process's CPU time per op.
//
//	cd integration && go test -run '^$' -bench 'PublishSQLite|BareInsertSQLite' -benchmem -count 5 .
func BenchmarkPublishSQLite(b *testing.B) {
	d, _ := publishSQLite(b)
	benchPublishSQLite(b, d)
}

// BenchmarkPublishSQLiteGoPath is BenchmarkPublishSQLite the way Publish
// went before EnqueueMatching on SQLite: ListEndpoints, then Enqueue.
func BenchmarkPublishSQLiteGoPath(b *testing.B) {
	_, s := publishSQLite(b)
	d, err := webhook.NewDispatcher(goPathStore{s}, nil)
	require.NoError(b, err)
	benchPublishSQLite(b, d)
}

func benchPublishSQLite(b *testing.B, d *webhook.Dispatcher) {
	ctx := context.Background()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "t", Data: map[string]any{"title": "Hello", "votes": i}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkBareInsertSQLite is the floor for BenchmarkPublishSQLite.
func BenchmarkBareInsertSQLite(b *testing.B) {
	_, s := publishSQLite(b)
	ctx := context.Background()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		_, err := s.DB().ExecContext(ctx, `INSERT INTO outhook_events (id, type, tenant_id, created_at, body, metadata) VALUES (?, ?, ?, ?, ?, NULL)`,
			fmt.Sprintf("bare-%d", i), "post.created", "t", t0.UnixNano(), benchBody)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}
