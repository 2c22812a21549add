package integration

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkPublishSQLiteFloor is what Publish's writes cost on SQLite
// without outhook around them, on one connection with prepared
// statements: the event row alone (autocommitted: the harness's "bare
// INSERT"), then the event and one delivery row in one transaction, then
// those and the change counter (every row Publish writes), and last the
// event and the delivery with none of the deliveries' secondary indexes.
// Each index a row lands in is one more page, so one more WAL frame (two
// writes), at the commit.
//
//	cd integration && go test -run '^$' -bench 'PublishSQLiteFloor' -benchmem .
func BenchmarkPublishSQLiteFloor(b *testing.B) {
	for _, c := range []struct {
		name                      string
		delivery, signal, noIndex bool
	}{{"event", false, false, false}, {"event+delivery", true, false, false}, {"event+delivery+signal", true, true, false},
		{"event+delivery,no-delivery-indexes", true, false, true}} {
		b.Run(c.name, func(b *testing.B) {
			_, s := publishSQLite(b)
			ctx := context.Background()
			conn, err := s.DB().Conn(ctx)
			require.NoError(b, err)
			defer conn.Close()
			if c.noIndex {
				dropIndexes(b, conn, "outhook_deliveries")
			}
			ins, err := conn.PrepareContext(ctx, `INSERT INTO outhook_events (id, type, tenant_id, created_at, body, metadata) VALUES (?, ?, ?, ?, ?, NULL)`)
			require.NoError(b, err)
			del, err := conn.PrepareContext(ctx, `INSERT INTO outhook_deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
				next_attempt_at, due_at, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, '', ?, ?)`)
			require.NoError(b, err)
			sig, err := conn.PrepareContext(ctx, `UPDATE outhook_signal SET seq = seq + 1 WHERE id = 1`)
			require.NoError(b, err)
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				id := fmt.Sprintf("floor-%d", i)
				if c.delivery {
					_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
					require.NoError(b, err)
				}
				_, err = ins.ExecContext(ctx, id, "post.created", "t", t0.UnixNano(), benchBody)
				require.NoError(b, err)
				if c.delivery {
					at := t0.UnixNano() + int64(i)
					_, err = del.ExecContext(ctx, "d-"+id, id, "post.created", "t", "ep", at, at, at, at)
					require.NoError(b, err)
					if c.signal {
						_, err = sig.ExecContext(ctx)
						require.NoError(b, err)
					}
					_, err = conn.ExecContext(ctx, "COMMIT")
					require.NoError(b, err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// dropIndexes drops the indexes made by CREATE INDEX on table.
func dropIndexes(b *testing.B, conn *sql.Conn, table string) {
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, table)
	require.NoError(b, err)
	var names []string
	for rows.Next() {
		var n string
		require.NoError(b, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(b, rows.Close())
	require.NotEmpty(b, names)
	for _, n := range names {
		_, err := conn.ExecContext(ctx, `DROP INDEX `+n)
		require.NoError(b, err)
	}
}
