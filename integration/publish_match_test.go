package integration

import (
	"context"
	"database/sql"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/sqlstore"
)

// goPathStore hides every optional ability of the Store it wraps: Publish
// then lists the endpoints and matches them in Go.
type goPathStore struct{ webhook.Store }

// goPathTxStore hides the matching abilities but keeps EnqueueTx.
type goPathTxStore struct {
	webhook.Store
	webhook.TxEnqueuer
}

// deliveryShape is what a delivery of the comparison must agree on.
type deliveryShape struct {
	Endpoint, Type, Tenant string
	State                  webhook.DeliveryState
	Attempts               int
	Due, Created           time.Time
}

// publishBothWays publishes each event type through one dispatcher whose
// Store matches endpoints itself and one that takes the Go path (both on
// st, with the same clock), and requires the same deliveries from both.
// publish runs one Publish (or PublishTx) on d.
func publishBothWays(t *testing.T, st, goPath webhook.Store, publish func(d *webhook.Dispatcher, ev webhook.Event) (webhook.Event, error)) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := &webhook.Config{Clock: func() time.Time { return now }}
	fast, err := webhook.NewDispatcher(st, cfg)
	require.NoError(t, err)
	slow, err := webhook.NewDispatcher(goPath, cfg)
	require.NoError(t, err)

	tenant := randomName("tenant")
	filters := [][]string{nil, {"post.created"}, {"post.*"}, {"post.comment.*"}, {"postal.sent"},
		{"user.*", "post.created"}, {"post.updated", "post.comment.*"}, {"billing.invoice.*"}}
	for _, events := range filters {
		_, _, err := fast.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: tenant, URL: "https://example.com/hook", Events: events})
		require.NoError(t, err)
	}
	disabled, _, err := fast.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: tenant, URL: "https://example.com/off"})
	require.NoError(t, err)
	require.NoError(t, fast.DisableEndpoint(ctx, disabled.ID, "test"))
	_, _, err = fast.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: tenant, URL: "https://example.com/inactive", Inactive: true})
	require.NoError(t, err)
	_, _, err = fast.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: randomName("other"), URL: "https://example.com/other"})
	require.NoError(t, err)

	shapes := func(eventID string) []deliveryShape {
		ds, _, err := st.ListDeliveries(ctx, webhook.DeliveryFilter{EventID: eventID, Limit: 1000})
		require.NoError(t, err)
		out := make([]deliveryShape, len(ds))
		for i, d := range ds {
			out[i] = deliveryShape{d.EndpointID, d.EventType, d.TenantID, d.State, d.Attempts, d.NextAttemptAt.UTC(), d.CreatedAt.UTC()}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Endpoint < out[j].Endpoint })
		return out
	}
	for _, typ := range []string{"post.created", "post.comment.created", "postal.sent", "user.deleted", "billing.invoice.paid", "team.renamed"} {
		a, err := publish(fast, webhook.Event{Type: typ, TenantID: tenant, Data: map[string]any{"n": 1}})
		require.NoError(t, err, typ)
		b, err := publish(slow, webhook.Event{Type: typ, TenantID: tenant, Data: map[string]any{"n": 1}})
		require.NoError(t, err, typ)
		want := shapes(b.ID)
		assert.Equal(t, want, shapes(a.ID), "%s: the deliveries of both paths", typ)

		// A retry with the same ID is the same event again, on both paths;
		// another type under that ID is a clash.
		again, err := publish(fast, webhook.Event{ID: a.ID, Type: typ, TenantID: tenant})
		require.NoError(t, err)
		assert.Equal(t, a.CreatedAt, again.CreatedAt)
		_, err = publish(fast, webhook.Event{ID: b.ID, Type: "other.type", TenantID: tenant})
		require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
		assert.Equal(t, want, shapes(b.ID), "%s: a duplicate adds nothing", typ)
	}
}

func TestPublishMatchMemstore(t *testing.T) {
	st := memstore.New()
	publishBothWays(t, st, goPathStore{st}, func(d *webhook.Dispatcher, ev webhook.Event) (webhook.Event, error) {
		return d.Publish(context.Background(), ev)
	})
}

func TestPublishMatchPostgres(t *testing.T) {
	pgURL(t)
	db, _ := openPG(t)
	publishMatchAllWays(t, db, newStore(t, db, sqlstore.Postgres, nil))
}

// publishMatchAllWays runs publishBothWays on st (on db) for Publish,
// PublishTx and PublishInTx.
func publishMatchAllWays(t *testing.T, db *sql.DB, st *sqlstore.Store) {
	t.Run("Publish", func(t *testing.T) {
		publishBothWays(t, st, goPathStore{st}, func(d *webhook.Dispatcher, ev webhook.Event) (webhook.Event, error) {
			return d.Publish(context.Background(), ev)
		})
	})
	t.Run("PublishTx", func(t *testing.T) {
		publishBothWays(t, st, goPathTxStore{st, st}, func(d *webhook.Dispatcher, ev webhook.Event) (webhook.Event, error) {
			return inTx(t, db, func(tx *sql.Tx) (webhook.Event, error) { return d.PublishTx(context.Background(), tx, ev) })
		})
	})
	t.Run("PublishInTx", func(t *testing.T) {
		publishBothWays(t, st, goPathTxStore{st, st}, func(d *webhook.Dispatcher, ev webhook.Event) (webhook.Event, error) {
			return inTx(t, db, func(tx *sql.Tx) (webhook.Event, error) {
				return d.PublishInTx(context.Background(), webhook.WrapSQLTx(tx), ev)
			})
		})
	})
}

// inTx runs fn in a transaction on db and commits it (rolls back on error).
func inTx(t *testing.T, db *sql.DB, fn func(tx *sql.Tx) (webhook.Event, error)) (webhook.Event, error) {
	tx, err := db.Begin()
	require.NoError(t, err)
	ev, err := fn(tx)
	if err != nil {
		require.NoError(t, tx.Rollback())
		return ev, err
	}
	return ev, tx.Commit()
}

// TestPublishMatchCorruptEventsPostgres: an endpoint whose stored events
// do not parse (a hand edit) fails Publish for its tenant with an error
// naming it, on the one-statement path as on the ListEndpoints one, and
// stores nothing; other tenants publish as before.
func TestPublishMatchCorruptEventsPostgres(t *testing.T) {
	pgURL(t)
	db, _ := openPG(t)
	publishCorruptEvents(t, db, newStore(t, db, sqlstore.Postgres, nil), `{"oops`, `UPDATE outhook_endpoints SET events = $1 WHERE id = $2`)
}

// publishCorruptEvents stores events (not a JSON array of strings) as the
// events of an endpoint of tenant "t" with update (parameters: the events,
// the endpoint's ID), then requires Publish to fail for "t" naming it, to
// store nothing, and to work for another tenant.
func publishCorruptEvents(t *testing.T, db *sql.DB, st *sqlstore.Store, events, update string) {
	ctx := context.Background()
	d, err := webhook.NewDispatcher(st, nil)
	require.NoError(t, err)
	bad, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "t", URL: "https://example.com/hook"})
	require.NoError(t, err)
	_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "u", URL: "https://example.com/hook"})
	require.NoError(t, err)
	_, err = db.Exec(update, events, bad.ID)
	require.NoError(t, err)
	_, err = d.Publish(ctx, webhook.Event{ID: "e1", Type: "post.created", TenantID: "t"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad.ID)
	assert.Contains(t, err.Error(), "events")
	_, err = st.GetEvent(ctx, "e1")
	require.ErrorIs(t, err, webhook.ErrNotFound)
	_, err = d.Publish(ctx, webhook.Event{ID: "e2", Type: "post.created", TenantID: "u"})
	require.NoError(t, err)
}

// TestPublishMatchNotifiesPostgres: deliveries written by EnqueueMatching
// (whose NOTIFY follows the commit) wake a listener, as Enqueue's do.
func TestPublishMatchNotifiesPostgres(t *testing.T) {
	pgURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, _ := openPG(t)
	st := newStore(t, db, sqlstore.Postgres, &sqlstore.Options{WaitForNotification: pgxWait})
	d, err := webhook.NewDispatcher(st, nil)
	require.NoError(t, err)
	_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "t", URL: "https://example.com/hook"})
	require.NoError(t, err)
	woke := make(chan struct{}, 100)
	go func() { _ = st.Listen(ctx, func() { woke <- struct{}{} }) }()
	select {
	case <-woke: // the first wake-up, once listening
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not start")
	}
	wait := func(what string) {
		select {
		case <-woke:
		case <-time.After(10 * time.Second):
			t.Fatalf("no wake-up after %s", what)
		}
	}
	now := time.Now()
	n, err := st.EnqueueMatching(ctx, &webhook.StoredEvent{ID: "n1", Type: "post.created", TenantID: "t", CreatedAt: now}, now)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	wait("EnqueueMatching")
}
