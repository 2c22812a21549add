package recipes_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// pgURLEnv names the PostgreSQL server the tests use; scripts/with-postgres.sh
// sets it. Unset, the tests skip, except under CI=true where they fail.
const pgURLEnv = "OUTHOOK_TEST_POSTGRES_URL"

// pollInterval is the Dispatcher's poll in the tests: a rolled-back event
// must still be unsent several polls after the committed one arrived.
const pollInterval = 50 * time.Millisecond

// env is an application on a fresh PostgreSQL schema: a pgxpool, a
// *sql.DB sharing it (stdlib.OpenDBFromPool), an orders table, a sqlstore
// and a running Dispatcher with one endpoint of tenant "shop" on a
// receiver.
type env struct {
	url  string // the schema's connection URL
	pool *pgxpool.Pool
	db   *sql.DB
	s    *sqlstore.Store
	d    *webhook.Dispatcher
	rcv  *receiver
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv(pgURLEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set and CI=true: run the tests through scripts/with-postgres.sh (make test does)", pgURLEnv)
		}
		t.Skipf("%s is not set: run through scripts/with-postgres.sh", pgURLEnv)
	}
	admin, err := pgxpool.New(ctx, base)
	require.NoError(t, err)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	_, err = admin.Exec(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	e := &env{url: u.String()}
	e.pool, err = pgxpool.New(ctx, e.url)
	require.NoError(t, err)
	t.Cleanup(e.pool.Close)
	e.db = stdlib.OpenDBFromPool(e.pool)
	t.Cleanup(func() { e.db.Close() })
	_, err = e.pool.Exec(ctx, `CREATE TABLE orders (id TEXT PRIMARY KEY, total BIGINT NOT NULL)`)
	require.NoError(t, err)
	e.s, err = sqlstore.Open(ctx, e.db, sqlstore.Postgres, &sqlstore.Options{
		WaitForNotification: func(ctx context.Context, c any) error {
			_, err := c.(*stdlib.Conn).Conn().WaitForNotification(ctx)
			return err
		},
	})
	require.NoError(t, err)

	e.rcv = newReceiver(t)
	e.d, err = webhook.NewDispatcher(e.s, &webhook.Config{PollInterval: pollInterval, AllowPrivateNetworks: true})
	require.NoError(t, err)
	require.NoError(t, e.d.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, e.d.Shutdown(ctx))
	})
	_, _, err = e.d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "shop", URL: e.rcv.URL})
	require.NoError(t, err)
	return e
}

// receiver is a webhook endpoint on loopback that counts what arrives
// by webhook-id.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.got[req.Header.Get("webhook-id")]++
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

// placeFunc is one recipe: in one transaction of the application's
// driver, insert order id (total 42) and publish ev, then commit, or
// roll back when commit is false.
type placeFunc func(ctx context.Context, id string, ev webhook.Event, commit bool) error

// errRollback makes a recipe whose driver rolls back on error (GORM's
// Transaction) roll back.
var errRollback = errors.New("roll back")

// orderEvent is the event of order id.
func orderEvent(id string) webhook.Event {
	return webhook.Event{ID: "evt-" + id, Type: "order.created", TenantID: "shop", Data: map[string]any{"order": id, "total": 42}}
}

// checkAtomic runs place twice and proves the outbox atomic both ways: a
// rolled-back order leaves no order, no event, no delivery, and its
// webhook is never sent; a committed order's row exists and its webhook
// is delivered once.
func (e *env) checkAtomic(t *testing.T, place placeFunc) {
	t.Helper()
	ctx := context.Background()

	rolledBack := orderEvent("o-rolled-back")
	require.NoError(t, place(ctx, "o-rolled-back", rolledBack, false))
	assert.False(t, e.orderExists(t, "o-rolled-back"), "the rolled-back order")
	_, err := e.s.GetEvent(ctx, rolledBack.ID)
	require.ErrorIs(t, err, webhook.ErrNotFound, "the rolled-back event")
	assert.Empty(t, e.deliveries(t, rolledBack.ID), "deliveries of the rolled-back event")

	committed := orderEvent("o-committed")
	require.NoError(t, place(ctx, "o-committed", committed, true))
	assert.True(t, e.orderExists(t, "o-committed"), "the committed order")
	waitFor(t, 10*time.Second, "the committed order's webhook delivered", func() bool {
		ds := e.deliveries(t, committed.ID)
		return len(ds) == 1 && ds[0].State == webhook.StateSucceeded
	})
	assert.Equal(t, 1, e.rcv.count(committed.ID), "the committed order's webhook, received")

	// A few polls later, still nothing of the rolled-back order.
	time.Sleep(4 * pollInterval)
	assert.Zero(t, e.rcv.count(rolledBack.ID), "the rolled-back order's webhook was sent")
	assert.Empty(t, e.deliveries(t, rolledBack.ID), "deliveries of the rolled-back event")
	assert.Equal(t, 1, e.rcv.count(committed.ID), "the committed order's webhook, received once")
}

func (e *env) orderExists(t *testing.T, id string) bool {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM orders WHERE id = $1`, id).Scan(&n))
	return n == 1
}

func (e *env) deliveries(t *testing.T, eventID string) []*webhook.Delivery {
	t.Helper()
	ds, _, err := e.d.ListDeliveries(context.Background(), webhook.DeliveryFilter{EventID: eventID})
	require.NoError(t, err)
	return ds
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
