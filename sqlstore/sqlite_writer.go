package sqlstore

// The SQLite writer: one connection for every write transaction of a
// Store, so they queue in Go instead of fighting over SQLite's write lock,
// with its statements prepared once and reused.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// liteStmtMax bounds the statements the writer keeps prepared. A few
// texts vary with their arguments (IN lists of claimed IDs); past the
// bound new texts run unprepared until the connection is given back.
const liteStmtMax = 256

// liteIdle is how long the writer keeps its connection out of the pool
// with no write to run.
const liteIdle = 2 * time.Second

// litePoolMin is the smallest pool (SetMaxOpenConns) from which the writer
// keeps its connection between transactions: with fewer, a held
// connection could leave none for reads while an application's
// transaction holds another, so the connection goes back to the pool
// after each transaction (and its statements are prepared again).
const litePoolMin = 3

// liteWriter runs a Store's SQLite write transactions one at a time on one
// connection. Serialising them in the process removes the SQLITE_BUSY
// waits (and the busy handler's sleeps) between the Store's own writers;
// other processes still meet the busy timeout as before. Keeping one
// connection keeps its page cache valid (no other connection of this
// process writes) and lets prepared statements be reused: parsing was a
// large part of every statement's cost. Transactions that queue up while
// one runs share a commit (sqlite_group.go).
type liteWriter struct {
	db   *sql.DB
	sem  chan struct{} // held while a transaction runs or the connection changes hands
	conn *sql.Conn     // nil when none is held; guarded by sem
	// tempStore is conn's temp_store before the writer set it to MEMORY
	// (liteMemTemp), or -1; guarded by sem.
	tempStore int
	// stmts are the statements prepared on conn; guarded by sem.
	stmts map[string]*sql.Stmt
	// used is when the last transaction ended; guarded by sem.
	used time.Time
	// timer releases an idle connection; guarded by mu.
	mu    sync.Mutex
	timer *time.Timer
	// The group commit (sqlite_group.go): whether a group runs, and the
	// requests waiting for the next; guarded by qmu.
	qmu     sync.Mutex
	leading bool
	queue   []*liteReq
}

func newLiteWriter(db *sql.DB) *liteWriter {
	return &liteWriter{db: db, sem: make(chan struct{}, 1)}
}

// release ends a turn: the connection stays for the next writer when the
// pool is large enough, else it goes back now.
func (w *liteWriter) release() {
	keep := false
	if w.conn != nil {
		keep = w.keeps()
		if !keep {
			w.drop(false)
		} else {
			w.used = time.Now()
		}
	}
	<-w.sem
	if keep {
		w.mu.Lock()
		if w.timer == nil {
			w.timer = time.AfterFunc(liteIdle, w.idle)
		} else {
			w.timer.Reset(liteIdle)
		}
		w.mu.Unlock()
	}
}

// keeps reports whether the pool is large enough for the writer to keep
// its connection between transactions (litePoolMin).
func (w *liteWriter) keeps() bool {
	max := w.db.Stats().MaxOpenConnections
	return max == 0 || max >= litePoolMin
}

// connect takes a connection from the pool for the writer. The caller
// holds sem.
func (w *liteWriter) connect(ctx context.Context) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: conn: %w", err)
	}
	w.conn, w.tempStore = conn, -1
	if w.keeps() {
		w.memTemp(ctx)
	}
	return nil
}

// memTemp sets temp_store to MEMORY on the writer's connection, when it
// holds no temporary tables (changing the setting would drop them), and
// remembers the setting to restore in drop. A statement that changes many
// rows inside a transaction (CompleteBatch's UPDATE … FROM, for one) keeps
// a statement journal, and SQLite's default moves it to a new temporary
// file once it passes 64 KiB: a file created, written and deleted per
// statement. It is done only on a connection the writer keeps for many
// transactions; failing, it leaves the setting as it was.
func (w *liteWriter) memTemp(ctx context.Context) {
	var prev, objects int
	if err := w.conn.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&prev); err != nil || prev == liteTempStoreMemory {
		return
	}
	if err := w.conn.QueryRowContext(ctx, "SELECT count(*) FROM temp.sqlite_master").Scan(&objects); err != nil || objects > 0 {
		return
	}
	if _, err := w.conn.ExecContext(ctx, "PRAGMA temp_store = "+strconv.Itoa(liteTempStoreMemory)); err == nil {
		w.tempStore = prev
	}
}

// liteTempStoreMemory is temp_store's value for MEMORY.
const liteTempStoreMemory = 2

// idle gives the connection back to the pool when no transaction ran for
// liteIdle; a writer at work keeps it.
func (w *liteWriter) idle() {
	select {
	case w.sem <- struct{}{}:
	default:
		return // in use: release re-arms the timer
	}
	if w.conn != nil && time.Since(w.used) >= liteIdle {
		w.drop(false)
	}
	<-w.sem
}

// drop closes the statements and gives the connection back to the pool,
// or throws it away when bad (its state is unknown). The caller holds sem.
func (w *liteWriter) drop(bad bool) {
	for _, st := range w.stmts {
		_ = st.Close()
	}
	w.stmts = nil
	if bad {
		_ = w.conn.Raw(func(any) error { return driver.ErrBadConn })
	} else if w.tempStore >= 0 {
		// The application's setting again; on failure the connection
		// is not given back changed.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := w.conn.ExecContext(ctx, "PRAGMA temp_store = "+strconv.Itoa(w.tempStore)); err != nil {
			_ = w.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		cancel()
	}
	_ = w.conn.Close()
	w.conn = nil
}

// rollback is Store.rollbackConn for the writer's connection: one that
// could not roll back is not used again.
func (w *liteWriter) rollback(ctx context.Context, s *Store, conn *sql.Conn) {
	if !s.rollbackConn(ctx, conn) && w.conn == conn {
		w.stmts = nil // the connection is gone: so are they
		_ = w.conn.Close()
		w.conn = nil
	}
}

// stmt returns query prepared on the writer's connection, or nil once
// liteStmtMax texts are (a statement is never closed while the
// transaction may still read its rows).
func (w *liteWriter) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	if len(w.stmts) >= liteStmtMax {
		return nil, nil
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = make(map[string]*sql.Stmt)
	}
	w.stmts[query] = st
	return st, nil
}

func (w *liteWriter) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return w.conn.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// liteTx is the querier a write transaction on the writer sees: every
// statement is prepared once on the connection and reused. detach runs
// the statements without ctx's cancellation (a later member of a group).
type liteTx struct {
	w      *liteWriter
	detach bool
}

func (t liteTx) ctx(ctx context.Context) context.Context {
	if t.detach {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (t liteTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.w.exec(t.ctx(ctx), query, args...)
}

func (t liteTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	st, err := t.w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return t.w.conn.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (t liteTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.ctx(ctx)
	st, err := t.w.stmt(ctx, query)
	if err != nil || st == nil {
		// Without the cache (on an error, a *sql.Row carrying it: the
		// same statement reports it again).
		return t.w.conn.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// tryRead runs fn, a read, on the writer's connection when no write
// transaction holds it, and reports whether it did; when busy, the caller
// reads from the pool instead of waiting. The writer's connection did the
// last write, so its page cache is current and its statements are
// prepared: Publish's read of the endpoints costs a fraction of a read on
// a pooled connection.
func (w *liteWriter) tryRead(ctx context.Context, fn func(q querier) error) (bool, error) {
	select {
	case w.sem <- struct{}{}:
	default:
		return false, nil
	}
	defer w.release()
	if w.conn == nil {
		if err := w.connect(ctx); err != nil {
			return true, err
		}
	}
	return true, fn(liteTx{w: w})
}
