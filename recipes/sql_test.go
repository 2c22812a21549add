package recipes_test

import (
	"context"
	"database/sql"
	"testing"

	webhook "github.com/outhook/webhook"
)

// placeOrderSQL is the database/sql recipe.
func placeOrderSQL(ctx context.Context, db *sql.DB, d *webhook.Dispatcher, id string, ev webhook.Event, commit bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id, total) VALUES ($1, $2)`, id, 42); err != nil {
		return err
	}
	if _, err := d.PublishTx(ctx, tx, ev); err != nil {
		return err
	}
	if !commit {
		return tx.Rollback()
	}
	return tx.Commit()
}

func TestDatabaseSQL(t *testing.T) {
	e := newEnv(t)
	e.checkAtomic(t, func(ctx context.Context, id string, ev webhook.Event, commit bool) error {
		return placeOrderSQL(ctx, e.db, e.d, id, ev, commit)
	})
}
