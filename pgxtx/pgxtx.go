// Package pgxtx lets Dispatcher.PublishInTx write the transactional outbox
// inside a pgx transaction (pgx.Tx, from a pgx.Conn or a pgxpool.Pool), so
// a service that runs on pgx directly (or sqlc on pgx) publishes its
// webhooks in the very transaction that writes its rows:
//
//	tx, err := pool.Begin(ctx)
//	defer tx.Rollback(ctx)
//	_, err = tx.Exec(ctx, `INSERT INTO orders (id, total) VALUES ($1, $2)`, id, total)
//	_, err = d.PublishInTx(ctx, pgxtx.Wrap(tx), webhook.Event{Type: "order.created", TenantID: shop, Data: order})
//	err = tx.Commit(ctx)
//
// The Store is a sqlstore on the same PostgreSQL database, through a
// *sql.DB: stdlib.OpenDBFromPool(pool) shares the pool. That *sql.DB is
// for the Store only: a second transaction begun on it for the webhook
// (db.BeginTx, then PublishTx) commits on its own, so a rolled-back order
// still sends its webhook. Publish with pgxtx.Wrap of the transaction
// that writes the order.
//
// The module is separate so that the webhook module depends on no driver.
package pgxtx

import (
	"context"

	"github.com/jackc/pgx/v5"

	webhook "github.com/outhook/webhook"
)

// Wrap returns tx as a webhook.Tx. Statements run on tx: with pgx's
// default query mode they are prepared and cached on its connection, and
// parameters ($1, $2, …, what sqlstore writes on PostgreSQL) are sent
// apart from the SQL. Exec reports the CommandTag's RowsAffected, and a
// QueryRow with no row returns pgx.ErrNoRows, which matches
// sql.ErrNoRows. Wrap(nil) is nil, which PublishInTx refuses.
func Wrap(tx pgx.Tx) webhook.Tx {
	if tx == nil {
		return nil
	}
	return pgxTx{tx}
}

type pgxTx struct{ tx pgx.Tx }

// Exec implements webhook.Tx.
func (t pgxTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// QueryRow implements webhook.Tx.
func (t pgxTx) QueryRow(ctx context.Context, query string, args ...any) webhook.TxRow {
	return t.tx.QueryRow(ctx, query, args...)
}
