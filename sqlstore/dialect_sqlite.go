package sqlstore

// The dialect of SQLite (see dialect.go).

import (
	"context"
	"database/sql"
	"encoding/json"

	webhook "github.com/outhook/webhook"
)

// sqlite is SQLite's dialect. One write transaction runs at a time
// (BEGIN IMMEDIATE, on the Store's writer), so it takes no row locks.
type sqlite struct{}

// bind leaves the ? parameters as they are.
func (sqlite) bind(query string) string { return query }

// maxParams is SQLITE_MAX_VARIABLE_NUMBER since 3.32.0 (the pure-Go
// drivers bundle newer SQLite).
func (sqlite) maxParams() int { return 32766 }

// liteList is the subquery "IN (%s)" takes on SQLite for ids: one
// parameter holding them as a JSON array.
const liteList = `SELECT value FROM json_each(?)`

// inList is one JSON array bound to one parameter (json_each): one
// statement text, and so one prepared statement on the writer's
// connection, serves every list length, and each listed row is found
// through the primary key.
func (sqlite) inList(ids []string) (string, []any) {
	b, _ := json.Marshal(ids) // strings: cannot fail
	return liteList, []any{string(b)}
}

func (sqlite) forUpdate(string) string           { return "" }
func (sqlite) forUpdateSkipLocked(string) string { return "" }
func (sqlite) locksRows() bool                   { return false }

// serialize does nothing: BEGIN IMMEDIATE already serialises writers.
func (sqlite) serialize(context.Context, querier, string) error { return nil }

// returningInWith is false: SQLite has no data-modifying WITH queries.
func (sqlite) returningInWith() bool { return false }

// headOrder is the rowid, which the one writer hands out in increasing
// order.
func (sqlite) headOrder() string { return `d.rowid` }

// endpointSeq numbers the endpoints under the write lock.
func (sqlite) endpointSeq() (col, val string) {
	return "seq, ", "(SELECT COALESCE(MAX(seq), 0) + 1 FROM {p}endpoints), "
}

func (sqlite) jsonArrays(cols string) string {
	return `json_group_array(json_array(` + cols + `))`
}

func (sqlite) pairsOf() string {
	return `SELECT json_extract(value, '$[0]') AS did, json_extract(value, '$[1]') AS tok FROM json_each(?)`
}

// writeTx runs fn on the Store's writer (sqlite_writer.go), or else in
// BEGIN IMMEDIATE so that two writers never both read and then fail to
// upgrade.
func (sqlite) writeTx(ctx context.Context, s *Store, fn func(tx querier) error) error {
	if s.lite != nil {
		return s.lite.run(ctx, s, fn)
	}
	return s.inConnTx(ctx, "BEGIN IMMEDIATE", fn)
}

// claimTx is the Store's write transaction.
func (sqlite) claimTx(ctx context.Context, s *Store, fn func(tx querier) error) error {
	return s.inTx(ctx, fn)
}

// snapshotTx is the default options: SQLite's transactions are
// serializable.
func (sqlite) snapshotTx() *sql.TxOptions { return nil }

// signal bumps the change counter Listen polls.
func (sqlite) signal(ctx context.Context, s *Store, tx webhook.Tx) error {
	_, err := tx.Exec(ctx, s.q(`UPDATE {p}signal SET seq = seq + 1 WHERE id = 1`))
	return err
}
