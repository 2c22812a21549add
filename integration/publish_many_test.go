package integration

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// manyPG is a dispatcher (not started) on a fresh PostgreSQL schema with
// one endpoint for tenant "t".
func manyPG(t testing.TB) (*webhook.Dispatcher, *sqlstore.Store) {
	t.Helper()
	db, _ := openPG(t)
	s := newStore(t, db, sqlstore.Postgres, nil)
	d, err := webhook.NewDispatcher(s, nil)
	require.NoError(t, err)
	_, _, err = d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: "t", URL: "https://example.com/hook"})
	require.NoError(t, err)
	return d, s
}

func TestPublishManyTxPostgres(t *testing.T) {
	pgURL(t)
	ctx := context.Background()
	d, s := manyPG(t)
	evs := []webhook.Event{{ID: "a", Type: "post.created", TenantID: "t"}, {ID: "b", Type: "post.created", TenantID: "t"}}

	tx, err := s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = d.PublishManyTx(ctx, tx, evs)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	_, err = s.GetEvent(ctx, "a")
	require.ErrorIs(t, err, webhook.ErrNotFound, "rolled back")

	tx, err = s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	out, err := d.PublishManyTx(ctx, tx, evs)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	ds, _, err := s.ListDeliveries(ctx, webhook.DeliveryFilter{TenantID: "t"})
	require.NoError(t, err)
	assert.Len(t, ds, 2)

	again, err := d.PublishMany(ctx, evs)
	require.NoError(t, err, "a retry of the batch")
	assert.Equal(t, out[0].CreatedAt, again[0].CreatedAt)
	ds, _, err = s.ListDeliveries(ctx, webhook.DeliveryFilter{TenantID: "t"})
	require.NoError(t, err)
	assert.Len(t, ds, 2, "the retry adds nothing")
}

// BenchmarkPublishManyPostgres publishes batches of 10,000 events (one
// endpoint, so one delivery each) with PublishMany, against a loop of
// PublishTx in one transaction, and reports events/s:
//
//	scripts/with-postgres.sh sh -c 'cd integration && go test -run "^$" -bench PublishManyPostgres -benchtime 5x .'
func BenchmarkPublishManyPostgres(b *testing.B) {
	pgURL(b)
	const n = 10000
	batch := func(round int) []webhook.Event {
		evs := make([]webhook.Event, n)
		for i := range evs {
			evs[i] = webhook.Event{ID: fmt.Sprintf("r%d-e%d", round, i), Type: "post.created", TenantID: "t",
				Data: map[string]any{"title": "Hello", "votes": i}}
		}
		return evs
	}
	b.Run("PublishMany", func(b *testing.B) {
		d, _ := manyPG(b)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			evs := batch(i)
			b.StartTimer()
			if _, err := d.PublishMany(ctx, evs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("PublishTx loop", func(b *testing.B) {
		d, s := manyPG(b)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			evs := batch(i)
			b.StartTimer()
			tx, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			for _, ev := range evs {
				if _, err := d.PublishTx(ctx, tx, ev); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkPublishPostgres is one Publish (one endpoint), serial, against
// a bare INSERT of the same event row: the cost of Publish's round trips
// (ListEndpoints, then a transaction with the event, its delivery and a
// NOTIFY).
//
//	scripts/with-postgres.sh sh -c 'cd integration && go test -run "^$" -bench "PublishPostgres|BareInsert" -benchmem .'
func BenchmarkPublishPostgres(b *testing.B) {
	pgURL(b)
	d, _ := manyPG(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "t", Data: map[string]any{"title": "Hello", "votes": i}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareInsertPostgres is the floor for BenchmarkPublishPostgres:
// one INSERT of an event row, autocommitted.
func BenchmarkBareInsertPostgres(b *testing.B) {
	pgURL(b)
	_, s := manyPG(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := s.DB().ExecContext(ctx, `INSERT INTO outhook_events (id, type, tenant_id, created_at, body, metadata) VALUES ($1, $2, $3, $4, $5, NULL)`,
			fmt.Sprintf("bare-%d", i), "post.created", "t", t0.UnixNano(), benchBody)
		if err != nil {
			b.Fatal(err)
		}
	}
}
