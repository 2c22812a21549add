package webhook_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// inTxStore is a memstore that also enqueues "inside" a Tx: it records the
// Tx it was given and enqueues at once (memstore has no transactions).
type inTxStore struct {
	*memstore.Store
	got []webhook.Tx
}

func (s *inTxStore) EnqueueInTx(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, ds []*webhook.Delivery) error {
	s.got = append(s.got, tx)
	return s.Enqueue(ctx, ev, ds)
}

// appTx is a Tx of some driver the root module does not know.
type appTx struct{}

func (appTx) Exec(context.Context, string, ...any) (int64, error)    { return 0, nil }
func (appTx) QueryRow(context.Context, string, ...any) webhook.TxRow { return nil }

// noConnector makes a *sql.DB that never connects.
type noConnector struct{}

func (noConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("no database")
}
func (noConnector) Driver() driver.Driver { return nil }

func newDispatcher(t *testing.T, s webhook.Store) *webhook.Dispatcher {
	t.Helper()
	d, err := webhook.NewDispatcher(s, nil)
	require.NoError(t, err)
	return d
}

func TestPublishInTx(t *testing.T) {
	ctx := context.Background()
	ev := webhook.Event{Type: "order.created", TenantID: "shop", Data: map[string]any{"order": 1}}

	t.Run("a Store without the ability is ErrNotSupported", func(t *testing.T) {
		d := newDispatcher(t, memstore.New())
		_, err := d.PublishInTx(ctx, appTx{}, ev)
		require.ErrorIs(t, err, webhook.ErrNotSupported)
	})

	t.Run("the Tx reaches EnqueueInTx and the event is stored", func(t *testing.T) {
		s := &inTxStore{Store: memstore.New()}
		d := newDispatcher(t, s)
		ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "shop", URL: "https://example.com/hook"})
		require.NoError(t, err)
		tx := appTx{}
		got, err := d.PublishInTx(ctx, tx, ev)
		require.NoError(t, err)
		require.Equal(t, []webhook.Tx{tx}, s.got)
		ds, _, err := d.ListDeliveries(ctx, webhook.DeliveryFilter{EventID: got.ID})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Equal(t, ep.ID, ds[0].EndpointID)

		again, err := d.PublishInTx(ctx, tx, got)
		require.NoError(t, err, "the same event again is a safe retry")
		assert.Equal(t, got.CreatedAt, again.CreatedAt)
	})

	bad := []struct {
		name string
		tx   webhook.Tx
	}{
		{"nil", nil},
		{"WrapSQLTx of nil", webhook.WrapSQLTx(nil)},
		{"WrapSQLTx of a nil *sql.Tx", webhook.WrapSQLTx((*sql.Tx)(nil))},
		{"WrapSQLTx of a *sql.DB", webhook.WrapSQLTx(sql.OpenDB(noConnector{}))},
	}
	for _, c := range bad {
		t.Run("tx "+c.name+" is a ValidationError and stores nothing", func(t *testing.T) {
			s := &inTxStore{Store: memstore.New()}
			d := newDispatcher(t, s)
			_, err := d.PublishInTx(ctx, c.tx, ev)
			var ve *webhook.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "tx", ve.Field)
			assert.Empty(t, s.got)
		})
	}

	t.Run("PublishTx falls back to EnqueueInTx, and refuses a nil *sql.Tx", func(t *testing.T) {
		s := &inTxStore{Store: memstore.New()}
		d := newDispatcher(t, s)
		_, err := d.PublishTx(ctx, nil, ev)
		var ve *webhook.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Empty(t, s.got)
	})

	t.Run("a wrapped *sql.DB refuses every call", func(t *testing.T) {
		tx := webhook.WrapSQLTx(sql.OpenDB(noConnector{}))
		_, err := tx.Exec(ctx, "SELECT 1")
		require.ErrorIs(t, err, webhook.ErrInvalid)
		require.ErrorIs(t, tx.QueryRow(ctx, "SELECT 1").Scan(new(int)), webhook.ErrInvalid)
	})
}
