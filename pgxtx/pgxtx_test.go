package pgxtx_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/pgxtx"
	"github.com/outhook/webhook/sqlstore"
	"github.com/outhook/webhook/storetest"
)

// pgURLEnv names the PostgreSQL server the tests use; scripts/with-postgres.sh
// sets it. Unset, the tests skip, except under CI=true where they fail.
const pgURLEnv = "OUTHOOK_TEST_POSTGRES_URL"

// newPool returns a pgxpool on a schema of its own, dropped at cleanup.
func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	base := os.Getenv(pgURLEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set and CI=true: run the tests through scripts/with-postgres.sh (make test does)", pgURLEnv)
		}
		t.Skipf("%s is not set: run through scripts/with-postgres.sh", pgURLEnv)
	}
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	})
	return pool
}

// TestConformance runs the storetest InTxEnqueuer and InTxManyEnqueuer areas with pgx
// transactions: sqlstore on a *sql.DB sharing the pgxpool
// (stdlib.OpenDBFromPool), each EnqueueInTx in a pgx.Tx through Wrap.
func TestConformance(t *testing.T) {
	var pools sync.Map // *sqlstore.Store → *pgxpool.Pool
	suite := storetest.Suite{
		NewStore: func(t *testing.T) webhook.Store {
			pool := newPool(t)
			db := stdlib.OpenDBFromPool(pool)
			t.Cleanup(func() { db.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s, err := sqlstore.Open(ctx, db, sqlstore.Postgres, nil)
			if err != nil {
				t.Fatal(err)
			}
			pools.Store(s, pool)
			return s
		},
		Features: storetest.InTxEnqueuer | storetest.InTxManyEnqueuer,
		Parallel: true,
		BeginAppTx: func(ctx context.Context, s webhook.Store) (storetest.AppTx, error) {
			pool, _ := pools.Load(s)
			tx, err := pool.(*pgxpool.Pool).Begin(ctx)
			if err != nil {
				return storetest.AppTx{}, err
			}
			return storetest.AppTx{Tx: pgxtx.Wrap(tx), Commit: tx.Commit, Rollback: tx.Rollback}, nil
		},
	}
	t.Run("InTxEnqueuer", suite.InTxEnqueuer)
	t.Run("InTxManyEnqueuer", suite.InTxManyEnqueuer)
}

func TestWrapNil(t *testing.T) {
	if tx := pgxtx.Wrap(nil); tx != nil {
		t.Fatalf("Wrap(nil) = %v, want nil", tx)
	}
	d, err := webhook.NewDispatcher(&sqlstore.Store{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.PublishInTx(context.Background(), pgxtx.Wrap(nil), webhook.Event{Type: "order.created"})
	if _, ok := err.(*webhook.ValidationError); !ok {
		t.Fatalf("PublishInTx(Wrap(nil)) = %v, want a *webhook.ValidationError", err)
	}
}
