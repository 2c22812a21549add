package webhook

import (
	"context"
	"database/sql"
	"fmt"
)

// Tx is the application's own database transaction, whatever its driver,
// as the transactional outbox writes through it: Dispatcher.PublishInTx
// hands it to a Store's EnqueueInTx (InTxEnqueuer). It is the two calls a
// Store needs to write the event, its deliveries and a wake-up signal, so
// the root module depends on no driver:
//
//   - database/sql (*sql.Tx, and anything with ExecContext and
//     QueryContext, such as ent's Tx with the sql/execquery feature):
//     WrapSQLTx.
//   - pgx (pgx.Tx, from a pgx.Conn or a pgxpool.Pool): pgxtx.Wrap, in the
//     module github.com/outhook/webhook/pgxtx.
//
// Queries come in the placeholder form of the Store's database ($1, $2, …
// on PostgreSQL, ? on SQLite), so the transaction must be on the database
// the Store uses. What a Store writes through a Tx is invisible until the
// transaction commits and gone if it rolls back: that is the whole point,
// so a Tx must really be a transaction, never a bare pool (each statement
// would commit on its own).
type Tx interface {
	// Exec runs a statement and returns how many rows it affected (0 for
	// a statement that affects none, a SELECT among them).
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	// QueryRow runs a query that returns at most one row. The row's Scan
	// must be called: it reads the first row's columns into dest, returns
	// an error matching sql.ErrNoRows when there is no row, and releases
	// the result.
	QueryRow(ctx context.Context, query string, args ...any) TxRow
}

// TxRow is the result of Tx.QueryRow.
type TxRow interface {
	// Scan reads the row's columns into dest; an error matching
	// sql.ErrNoRows if the query returned no row.
	Scan(dest ...any) error
}

// SQLExecQuerier is what WrapSQLTx needs: the database/sql calls that
// *sql.Tx, *sql.Conn, GORM's ConnPool and ent's Tx (generated with the
// sql/execquery feature) share.
type SQLExecQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// WrapSQLTx returns tx, a database/sql transaction, as a Tx. For a *sql.Tx
// Dispatcher.PublishTx does this itself; WrapSQLTx is for what wraps one
// (ent's Tx). Pass a transaction: a *sql.DB is refused (every call returns
// a *ValidationError), since its statements would each commit on their own.
func WrapSQLTx(tx SQLExecQuerier) Tx {
	if tx == nil {
		return nil
	}
	if t, ok := tx.(*sql.Tx); ok && t == nil {
		return nil
	}
	return sqlTx{q: tx}
}

// sqlTx is a database/sql transaction as a Tx.
type sqlTx struct{ q SQLExecQuerier }

// check refuses a *sql.DB: it is a pool, not a transaction.
func (t sqlTx) check() error {
	if _, ok := t.q.(*sql.DB); ok {
		return invalid("tx", "is a *sql.DB, not a transaction: begin one (db.BeginTx) and pass the *sql.Tx")
	}
	return nil
}

func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	res, err := t.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

func (t sqlTx) QueryRow(ctx context.Context, query string, args ...any) TxRow {
	if err := t.check(); err != nil {
		return sqlRow{err: err}
	}
	rows, err := t.q.QueryContext(ctx, query, args...)
	return sqlRow{rows: rows, err: err}
}

// sqlRow is the first row of a database/sql result, like *sql.Row.
type sqlRow struct {
	rows *sql.Rows
	err  error
}

func (r sqlRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

// unwrapSQLTx returns the *sql.Tx that tx wraps, if it is WrapSQLTx's
// wrapping of one.
func unwrapSQLTx(tx Tx) (*sql.Tx, bool) {
	t, ok := tx.(sqlTx)
	if !ok {
		return nil, false
	}
	st, ok := t.q.(*sql.Tx)
	return st, ok
}

// checkTx validates the tx given to PublishInTx.
func checkTx(tx Tx) error {
	if tx == nil {
		return invalid("tx", "is nil")
	}
	if t, ok := tx.(sqlTx); ok {
		return t.check()
	}
	return nil
}
