package integration

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// BenchmarkSQLiteDrivers measures the store's hot path, one op = Enqueue
// (an event and one delivery) + Claim + Complete, on the two pure-Go
// SQLite drivers, on a WAL file. "serial" is one goroutine; "parallel"
// runs GOMAXPROCS*4 goroutines on a pool of 4 connections, the way a
// Dispatcher's publishers and workers share one database. cpu-ns/op is the
// process's CPU time per op, steadier than wall time on a busy machine.
//
//	cd integration && go test -run '^$' -bench SQLiteDrivers -benchtime 3s .
func BenchmarkSQLiteDrivers(b *testing.B) {
	for _, drv := range []struct{ name, driver string }{
		{"modernc", "sqlite"},
		{"ncruces", "sqlite3"},
	} {
		b.Run(drv.name+"/serial", func(b *testing.B) {
			s, ep := benchStore(b, drv.driver)
			var n atomic.Int64
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				benchOp(b, s, ep, n.Add(1))
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
		b.Run(drv.name+"/parallel", func(b *testing.B) {
			s, ep := benchStore(b, drv.driver)
			var n atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchOp(b, s, ep, n.Add(1))
				}
			})
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func benchStore(b *testing.B, driverName string) (*sqlstore.Store, *webhook.Endpoint) {
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := sql.Open(driverName, sqliteDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	b.Cleanup(func() { db.Close() })
	return benchEndpoint(b, newStore(b, db, sqlstore.SQLite, nil))
}

func benchEndpoint(b *testing.B, s *sqlstore.Store) (*sqlstore.Store, *webhook.Endpoint) {
	ep := &webhook.Endpoint{ID: "ep", TenantID: "t", URL: "https://example.com", Method: "POST",
		ContentType: webhook.ContentTypeJSON, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateEndpoint(context.Background(), ep, webhook.Secret{Value: "whsec_eA==", CreatedAt: t0}, 0); err != nil {
		b.Fatal(err)
	}
	return s, ep
}

// BenchmarkPostgres is the same op on PostgreSQL (pgx), for comparison:
//
//	scripts/with-postgres.sh sh -c 'cd integration && go test -run "^$" -bench Postgres -benchtime 2000x .'
func BenchmarkPostgres(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		db, _ := openPG(b)
		s, ep := benchEndpoint(b, newStore(b, db, sqlstore.Postgres, nil))
		var n atomic.Int64
		b.ResetTimer()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			benchOp(b, s, ep, n.Add(1))
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "client-cpu-ns/op")
	})
	b.Run("parallel", func(b *testing.B) {
		db, _ := openPG(b)
		s, ep := benchEndpoint(b, newStore(b, db, sqlstore.Postgres, nil))
		var n atomic.Int64
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				benchOp(b, s, ep, n.Add(1))
			}
		})
	})
}

var benchBody = []byte(`{"id":"evt","type":"post.created","timestamp":"2031-01-02T03:04:05Z","data":{"title":"Hello","votes":42}}`)

func benchOp(b *testing.B, s *sqlstore.Store, ep *webhook.Endpoint, i int64) {
	ctx := context.Background()
	id := fmt.Sprintf("evt-%d", i)
	ev := &webhook.StoredEvent{ID: id, Type: "post.created", TenantID: "t", CreatedAt: t0, Body: benchBody}
	d := &webhook.Delivery{ID: "d-" + id, EventID: id, EventType: ev.Type, TenantID: "t", EndpointID: ep.ID,
		State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0, UpdatedAt: t0}
	if err := s.Enqueue(ctx, ev, []*webhook.Delivery{d}); err != nil {
		b.Fatal(err)
	}
	cs, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Hour, Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cs {
		_, _, err := s.Complete(ctx, webhook.Completion{DeliveryID: c.Delivery.ID, Token: c.Token, Outcome: webhook.OutcomeSuccess, Now: t0,
			Attempt: &webhook.Attempt{StartedAt: t0, Duration: time.Millisecond, StatusCode: 200, ResponseBody: "ok", Success: true}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
