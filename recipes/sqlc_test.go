package recipes_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/pgxtx"
	"github.com/outhook/webhook/recipes/sqlcdb"
)

// placeOrderSQLC is the sqlc recipe (sqlc on pgx/v5): the queries and
// the webhook in one pgx.Tx.
func placeOrderSQLC(ctx context.Context, pool *pgxpool.Pool, q *sqlcdb.Queries, d *webhook.Dispatcher, id string, ev webhook.Event, commit bool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := q.WithTx(tx).CreateOrder(ctx, sqlcdb.CreateOrderParams{ID: id, Total: 42}); err != nil {
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

func TestSQLC(t *testing.T) {
	e := newEnv(t)
	q := sqlcdb.New(e.pool)
	e.checkAtomic(t, func(ctx context.Context, id string, ev webhook.Event, commit bool) error {
		return placeOrderSQLC(ctx, e.pool, q, e.d, id, ev, commit)
	})
}
