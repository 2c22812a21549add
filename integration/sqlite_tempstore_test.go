package integration

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestSQLiteWriterTempStore: the writer keeps its statements' temporary
// files in memory on the connection it holds (temp_store), and gives every
// connection back to the pool as it found it: the application's setting
// restored, and its temporary tables kept (a connection holding some is
// left alone).
func TestSQLiteWriterTempStore(t *testing.T) {
	for _, withTemp := range []bool{false, true} {
		name := "plain"
		if withTemp {
			name = "temp tables"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := openSQLite(t, "sqlite")
			db.SetMaxOpenConns(3) // the writer keeps its connection (litePoolMin)
			db.SetMaxIdleConns(3)
			if withTemp {
				eachConn(t, db, func(c *sql.Conn) {
					_, err := c.ExecContext(ctx, `CREATE TEMP TABLE app_scratch (x INTEGER)`)
					require.NoError(t, err)
				})
			}
			st := newStore(t, db, sqlstore.SQLite, nil)
			d, err := webhook.NewDispatcher(st, nil)
			require.NoError(t, err)
			_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "t", URL: "https://example.com/hook"})
			require.NoError(t, err)
			for i := 0; i < 5; i++ {
				_, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "t"})
				require.NoError(t, err)
			}
			// Once idle, the writer gives its connection back: then every
			// connection is as the application left it.
			require.Eventually(t, func() bool {
				ok := true
				got := eachConnTry(db, func(c *sql.Conn) {
					var ts, objects int
					require.NoError(t, c.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&ts))
					require.NoError(t, c.QueryRowContext(ctx, `SELECT count(*) FROM temp.sqlite_master`).Scan(&objects))
					ok = ok && ts == 0 && objects == map[bool]int{false: 0, true: 1}[withTemp]
				})
				return got && ok
			}, 20*time.Second, 200*time.Millisecond)
		})
	}
}

// eachConn runs fn on each of db's 3 connections, held at once.
func eachConn(t *testing.T, db *sql.DB, fn func(c *sql.Conn)) {
	t.Helper()
	require.True(t, eachConnTry(db, fn), "the pool's connections")
}

// eachConnTry is eachConn, reporting false when the 3 connections cannot
// be held at once within a short wait.
func eachConnTry(db *sql.DB, fn func(c *sql.Conn)) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 3; i++ {
		c, err := db.Conn(ctx)
		if err != nil {
			return false
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		fn(c)
	}
	return true
}
