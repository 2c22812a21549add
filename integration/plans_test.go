package integration

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// planLog collects the plans auto_explain reports as notices.
type planLog struct {
	mu    sync.Mutex
	plans []string
}

func (l *planLog) add(p string) {
	l.mu.Lock()
	l.plans = append(l.plans, p)
	l.mu.Unlock()
}

// all returns the plans reported so far.
func (l *planLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.plans...)
}

// reset forgets the plans reported so far.
func (l *planLog) reset() {
	l.mu.Lock()
	l.plans = nil
	l.mu.Unlock()
}

// planSession opens a fresh PostgreSQL schema on a pool of one session,
// so that settings such as auto_explain stay on it, and collects the
// plans it reports.
func planSession(t *testing.T) (*sql.DB, *planLog) {
	t.Helper()
	cfg, err := pgx.ParseConfig(pgSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	pl := &planLog{}
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		if strings.Contains(n.Message, "Query Text") {
			pl.add(n.Message)
		}
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db, pl
}

// execAll runs the statements qs in order on db, failing the test at the
// first error.
func execAll(t *testing.T, db *sql.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// explainAll loads auto_explain on planSession's session and has it
// report the plan of every statement from now on (with ANALYZE), or
// skips the test when the server does not allow it.
func explainAll(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, q := range []string{`LOAD 'auto_explain'`, `SET auto_explain.log_min_duration = 0`,
		`SET auto_explain.log_analyze = on`, `SET client_min_messages = log`} {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Skipf("%s: %v: cannot capture plans on this server", q, err)
		}
	}
}
