package recipes_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/pgxtx"
)

// placeOrderPgx is the pgx recipe: the order and the webhook in one
// pgx.Tx, published through pgxtx.Wrap.
func placeOrderPgx(ctx context.Context, pool *pgxpool.Pool, d *webhook.Dispatcher, id string, ev webhook.Event, commit bool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO orders (id, total) VALUES ($1, $2)`, id, 42); err != nil {
		return err
	}
	if _, err := d.PublishInTx(ctx, pgxtx.Wrap(tx), ev); err != nil {
		return err
	}
	if !commit {
		return tx.Rollback(ctx)
	}
	return tx.Commit(ctx)
}

func TestPgx(t *testing.T) {
	e := newEnv(t)
	e.checkAtomic(t, func(ctx context.Context, id string, ev webhook.Event, commit bool) error {
		return placeOrderPgx(ctx, e.pool, e.d, id, ev, commit)
	})
}

// TestPitfallSecondTransaction shows what the README warns against: the
// order in a pgx.Tx, the webhook in a second transaction begun on the
// *sql.DB that stdlib.OpenDBFromPool made from the same pool. The second
// transaction commits on its own: the order rolls back and its webhook is
// sent anyway.
func TestPitfallSecondTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ev := orderEvent("o-pitfall")

	tx, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, `INSERT INTO orders (id, total) VALUES ($1, $2)`, "o-pitfall", 42)
	require.NoError(t, err)
	// Wrong: another transaction, on another connection of the pool.
	other, err := e.db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = e.d.PublishTx(ctx, other, ev)
	require.NoError(t, err)
	require.NoError(t, other.Commit())
	require.NoError(t, tx.Rollback(ctx)) // the order fails after all

	require.False(t, e.orderExists(t, "o-pitfall"), "the order rolled back")
	waitFor(t, 10*time.Second, "the webhook of the rolled-back order sent: the pitfall", func() bool {
		return e.rcv.count(ev.ID) == 1
	})
}

// TestPgxDuplicateInSameTx publishes one event ID twice inside one pgx.Tx:
// the second call is a safe retry (the event as the transaction sees it,
// read back through Wrap's QueryRow), another type under that ID is
// ErrDuplicateEvent, and the transaction still commits.
func TestPgxDuplicateInSameTx(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	ev := orderEvent("o-dup")
	first, err := e.d.PublishInTx(ctx, pgxtx.Wrap(tx), ev)
	require.NoError(t, err)
	again, err := e.d.PublishInTx(ctx, pgxtx.Wrap(tx), ev)
	require.NoError(t, err, "the same event again in the same transaction")
	require.Equal(t, first.CreatedAt, again.CreatedAt)
	other := ev
	other.Type = "order.cancelled"
	_, err = e.d.PublishInTx(ctx, pgxtx.Wrap(tx), other)
	require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
	require.NoError(t, tx.Commit(ctx), "the transaction survives the duplicates")
	waitFor(t, 10*time.Second, "the event delivered once", func() bool { return e.rcv.count(ev.ID) == 1 })
}
