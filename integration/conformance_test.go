package integration

import (
	"context"
	"database/sql"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
	"github.com/outhook/webhook/storetest"
)

var (
	_ webhook.Store             = (*sqlstore.Store)(nil)
	_ webhook.TxEnqueuer        = (*sqlstore.Store)(nil)
	_ webhook.InTxEnqueuer      = (*sqlstore.Store)(nil)
	_ webhook.Notifier          = (*sqlstore.Store)(nil)
	_ webhook.Maintainer        = (*sqlstore.Store)(nil)
	_ webhook.StatsReader       = (*sqlstore.Store)(nil)
	_ webhook.TenantSecretStore = (*sqlstore.Store)(nil)
)

// key is a fixed AES-256 key for tests: the conformance suite runs with
// secrets encrypted at rest, the path a careful deployment takes.
var key = sqlstore.EncryptionKey{ID: "k1", Key: []byte("0123456789abcdef0123456789abcdef")}

// allFeatures is every optional ability sqlstore has.
const allFeatures = storetest.TxEnqueuer | storetest.InTxEnqueuer | storetest.Notifier | storetest.Maintainer |
	storetest.Stats | storetest.TenantSecrets | storetest.BatchCompleter | storetest.ManyEnqueuer | storetest.InTxManyEnqueuer |
	storetest.MatchEnqueuer | storetest.InTxMatchEnqueuer |
	storetest.RateLimits |
	storetest.Ordered | storetest.SharedRates | storetest.Releaser

// beginTx begins a transaction on a sqlstore's database.
func beginTx(ctx context.Context, s webhook.Store) (*sql.Tx, error) {
	return s.(*sqlstore.Store).DB().BeginTx(ctx, nil)
}

func TestConformancePostgres(t *testing.T) {
	pgURL(t)
	storetest.Suite{
		NewStore: func(t *testing.T) webhook.Store {
			db, _ := openPG(t)
			return newStore(t, db, sqlstore.Postgres, &sqlstore.Options{
				EncryptionKeys: []sqlstore.EncryptionKey{key}, WaitForNotification: pgxWait,
			})
		},
		Features: allFeatures,
		Parallel: true,
		BeginTx:  beginTx,
	}.Run(t)
}

// TestConformancePostgresPrefix runs the suite on tables with another
// prefix in the default schema, with secrets in the clear.
func TestConformancePostgresPrefix(t *testing.T) {
	u := pgURL(t)
	storetest.Suite{
		NewStore: func(t *testing.T) webhook.Store {
			db := openPGURL(t, u)
			prefix := randomName("p") + "_"
			t.Cleanup(func() { dropPrefix(t, db, prefix) })
			return newStore(t, db, sqlstore.Postgres, &sqlstore.Options{TablePrefix: prefix, WaitForNotification: pgxWait})
		},
		Features: allFeatures,
		Parallel: true,
		BeginTx:  beginTx,
	}.Run(t)
}

func TestConformanceSQLite(t *testing.T) {
	for _, drv := range []string{"sqlite", "sqlite3"} {
		t.Run(drv, func(t *testing.T) {
			storetest.Suite{
				NewStore: func(t *testing.T) webhook.Store {
					db, _ := openSQLite(t, drv)
					return newStore(t, db, sqlstore.SQLite, &sqlstore.Options{
						EncryptionKeys: []sqlstore.EncryptionKey{key}, PollInterval: 20 * time.Millisecond,
					})
				},
				Features: allFeatures,
				Parallel: true,
				BeginTx:  beginTx,
			}.Run(t)
		})
	}
}
