package recipes_test

import (
	"context"
	"database/sql"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/recipes/ent"
)

// placeOrderEnt is the ent recipe: ent generated with the sql/execquery
// feature gives *ent.Tx ExecContext and QueryContext, so webhook.WrapSQLTx
// takes it.
func placeOrderEnt(ctx context.Context, client *ent.Client, d *webhook.Dispatcher, id string, ev webhook.Event, commit bool) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Order.Create().SetID(id).SetTotal(42).Save(ctx); err != nil {
		return err
	}
	if _, err := d.PublishInTx(ctx, webhook.WrapSQLTx(tx), ev); err != nil {
		return err
	}
	if !commit {
		return tx.Rollback()
	}
	return tx.Commit()
}

// placeOrderEntOwnTx is the ent recipe without the feature: begin the
// *sql.Tx with database/sql and run an ent client on it.
func placeOrderEntOwnTx(ctx context.Context, db *sql.DB, d *webhook.Dispatcher, id string, ev webhook.Event, commit bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	client := ent.NewClient(ent.Driver(entsql.NewDriver(dialect.Postgres, entsql.Conn{ExecQuerier: tx})))
	if _, err := client.Order.Create().SetID(id).SetTotal(42).Save(ctx); err != nil {
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

func TestEnt(t *testing.T) {
	t.Run("Tx with sql/execquery", func(t *testing.T) {
		e := newEnv(t)
		client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, e.db)))
		e.checkAtomic(t, func(ctx context.Context, id string, ev webhook.Event, commit bool) error {
			return placeOrderEnt(ctx, client, e.d, id, ev, commit)
		})
	})
	t.Run("client on your own *sql.Tx", func(t *testing.T) {
		e := newEnv(t)
		e.checkAtomic(t, func(ctx context.Context, id string, ev webhook.Event, commit bool) error {
			return placeOrderEntOwnTx(ctx, e.db, e.d, id, ev, commit)
		})
	})
}
