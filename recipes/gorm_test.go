package recipes_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	webhook "github.com/outhook/webhook"
)

// Order is the GORM model of the orders table.
type Order struct {
	ID    string `gorm:"primaryKey"`
	Total int64
}

// sqlTxOf returns the *sql.Tx under a GORM transaction: the ConnPool of
// its Statement, which PrepareStmt wraps in a *gorm.PreparedStmtTX.
// Outside a transaction there is none, and it says so.
func sqlTxOf(tx *gorm.DB) (*sql.Tx, error) {
	switch p := tx.Statement.ConnPool.(type) {
	case *sql.Tx:
		return p, nil
	case *gorm.PreparedStmtTX:
		if t, ok := p.Tx.(*sql.Tx); ok {
			return t, nil
		}
	}
	return nil, fmt.Errorf("not inside a GORM transaction (ConnPool is %T)", tx.Statement.ConnPool)
}

// placeOrderGORM is the GORM recipe.
func placeOrderGORM(ctx context.Context, db *gorm.DB, d *webhook.Dispatcher, id string, ev webhook.Event, commit bool) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&Order{ID: id, Total: 42}).Error; err != nil {
			return err
		}
		stx, err := sqlTxOf(tx)
		if err != nil {
			return err
		}
		if _, err := d.PublishTx(ctx, stx, ev); err != nil {
			return err
		}
		if !commit {
			return errRollback
		}
		return nil
	})
	if !commit && err == errRollback {
		return nil
	}
	return err
}

func TestGORM(t *testing.T) {
	for _, prepare := range []bool{false, true} {
		t.Run(fmt.Sprintf("PrepareStmt=%v", prepare), func(t *testing.T) {
			e := newEnv(t)
			db, err := gorm.Open(postgres.New(postgres.Config{Conn: e.db}), &gorm.Config{
				PrepareStmt: prepare,
				Logger:      logger.Default.LogMode(logger.Silent),
			})
			require.NoError(t, err)
			e.checkAtomic(t, func(ctx context.Context, id string, ev webhook.Event, commit bool) error {
				return placeOrderGORM(ctx, db, e.d, id, ev, commit)
			})

			// Outside a transaction there is no *sql.Tx to publish in.
			_, err = sqlTxOf(db)
			require.ErrorContains(t, err, "not inside a GORM transaction")
		})
	}
}
