package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// sqlitePool is the size of every SQLite pool, as docs/sqlstore.md
// advises.
const sqlitePool = 4

// sqliteWorkers is how many goroutines the one-commit-per-delivery
// baseline runs.
const sqliteWorkers = 16

// sqliteDSN is how docs/sqlstore.md tells applications to open the file:
// WAL, synchronous=NORMAL, a busy timeout, BEGIN IMMEDIATE.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// openSQLite opens a new database file in the run's directory.
func openSQLite(e *env, name string) (*sql.DB, error) {
	path := filepath.Join(e.dir, name+"-"+strconv.FormatInt(e.seq.Add(1), 10)+".db")
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(sqlitePool)
	db.SetMaxIdleConns(sqlitePool)
	return db, db.Ping()
}

// sqliteSettings reads SQLite's version and durability settings.
func sqliteSettings(e *env) map[string]string {
	out := map[string]string{}
	db, err := openSQLite(e, "settings")
	if err != nil {
		return out
	}
	defer db.Close()
	for name, q := range map[string]string{"version": "SELECT sqlite_version()", "journal_mode": "PRAGMA journal_mode", "synchronous": "PRAGMA synchronous"} {
		var v string
		if err := db.QueryRow(q).Scan(&v); err == nil {
			out[name] = v
		}
	}
	return out
}

func checkpointSQLite(ctx context.Context, db *sql.DB) {
	_, _ = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
}

// benchSQLite: SQLite burn-down of n events to one endpoint: a loop that
// commits once per delivery from 16 goroutines, outhook's sqlstore, and
// outhook's memstore for scale.
func benchSQLite(ctx context.Context, e *env) (figures, error) {
	n := e.p.sqliteN
	f := figures{}
	var err error
	if f["loop/s"], err = sqliteLoop(ctx, e, n); err != nil {
		return nil, fmt.Errorf("one commit per delivery: %w", err)
	}
	if f["outhook/s"], err = sqliteOuthook(ctx, e, n); err != nil {
		return nil, fmt.Errorf("outhook: %w", err)
	}
	if f["memstore/s"], err = memstoreBurnDown(ctx, e, n); err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	return f, nil
}

// sqliteLoop is the baseline: n jobs in a table; 16 goroutines each take
// the next job (an in-process counter stands for the claim), read its
// body, send it signed, and mark it done: one autocommitted UPDATE, one
// commit, per delivery.
func sqliteLoop(ctx context.Context, e *env, n int) (float64, error) {
	db, err := openSQLite(e, "loop")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE jobs (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, body BLOB NOT NULL,
		state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)`); err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	b := body("loop")
	for i := 1; i <= n; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (id, event_id, body, state, updated_at) VALUES (?, ?, ?, 'pending', ?)`,
			i, "loop-"+strconv.Itoa(i), b, time.Now().UnixNano()); err != nil {
			tx.Rollback()
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	checkpointSQLite(ctx, db)
	c := tunedClient(sqliteWorkers)
	defer c.CloseIdleConnections()
	var next atomic.Int64
	var failed atomic.Value
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	fail := func(err error) {
		failed.Store(err)
		abort()
	}
	rate, _, err := burnDown(wctx, e.rcv, func() error {
		for g := 0; g < sqliteWorkers; g++ {
			go func() {
				for {
					id := next.Add(1)
					if id > int64(n) {
						return
					}
					var eventID string
					var body []byte
					if err := db.QueryRowContext(ctx, `SELECT event_id, body FROM jobs WHERE id = ?`, id).Scan(&eventID, &body); err != nil {
						fail(err)
						return
					}
					if err := post(ctx, c, e.rcv.url, eventID, body); err != nil {
						fail(err)
						return
					}
					if _, err := db.ExecContext(ctx, `UPDATE jobs SET state = 'done', attempts = attempts + 1, updated_at = ? WHERE id = ?`,
						time.Now().UnixNano(), id); err != nil {
						fail(err)
						return
					}
				}
			}()
		}
		return nil
	}, n, e.p.timeout)
	if err != nil {
		if ferr, ok := failed.Load().(error); ok {
			return 0, ferr
		}
		return 0, err
	}
	// Let the last UPDATEs finish before the file closes.
	for i := 0; i < 1000; i++ {
		var left int
		if db.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE state <> 'done'`).Scan(&left) != nil || left == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return rate, nil
}

// sqliteStore opens outhook's sqlstore on a new file.
func sqliteStore(ctx context.Context, e *env, name string) (*sqlstore.Store, *sql.DB, error) {
	db, err := openSQLite(e, name)
	if err != nil {
		return nil, nil, err
	}
	s, err := sqlstore.Open(ctx, db, sqlstore.SQLite, nil)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return s, db, nil
}

// sqliteOuthook publishes n events before Start and times their delivery
// with 100 attempts in flight, as on PostgreSQL.
func sqliteOuthook(ctx context.Context, e *env, n int) (float64, error) {
	s, db, err := sqliteStore(ctx, e, "outhook")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	d, err := webhook.NewDispatcher(s, singleEndpointConfig(riverWorkers))
	if err != nil {
		return 0, err
	}
	if err := createEndpoint(ctx, d, tenant, e.rcv.url); err != nil {
		return 0, err
	}
	if _, _, err := loadEvents(ctx, d, "sb", n); err != nil {
		return 0, err
	}
	checkpointSQLite(ctx, db)
	defer shutdown(d)
	rate, _, err := burnDown(ctx, e.rcv, func() error { return d.Start(ctx) }, n, e.p.timeout)
	return rate, err
}

// benchSQLitePublish: Publish's latency on SQLite, serial, against a bare
// INSERT of the event's row into a table like outhook's events table in
// the same file.
func benchSQLitePublish(ctx context.Context, e *env) (figures, error) {
	s, db, err := sqliteStore(ctx, e, "publish")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	d, err := webhook.NewDispatcher(s, singleEndpointConfig(riverWorkers))
	if err != nil {
		return nil, err
	}
	if err := createEndpoint(ctx, d, tenant, e.rcv.url); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_bare_events (id TEXT PRIMARY KEY, type TEXT NOT NULL,
		tenant_id TEXT NOT NULL, created_at INTEGER NOT NULL, body BLOB NOT NULL)`); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE INDEX bench_bare_events_created_idx ON bench_bare_events (created_at)`); err != nil {
		return nil, err
	}
	insert := func(ctx context.Context, id string, b []byte) error {
		_, err := db.ExecContext(ctx, `INSERT INTO bench_bare_events (id, type, tenant_id, created_at, body) VALUES (?, ?, ?, ?, ?)`,
			id, eventType, tenant, time.Now().UnixNano(), b)
		return err
	}
	ins, pub, err := publishLatency(ctx, e, d, insert)
	if err != nil {
		return nil, err
	}
	return figures{"insert_p50_ms": ins, "publish_p50_ms": pub}, nil
}

// benchPublish is the Publish-vs-INSERT measurement on both databases.
func benchPublish(ctx context.Context, e *env) (figures, error) {
	f := figures{}
	if e.pg != nil {
		pg, err := benchPGPublish(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		f["pg_insert_p50_ms"], f["pg_publish_p50_ms"] = pg["insert_p50_ms"], pg["publish_p50_ms"]
	}
	lite, err := benchSQLitePublish(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	f["sqlite_insert_p50_ms"], f["sqlite_publish_p50_ms"] = lite["insert_p50_ms"], lite["publish_p50_ms"]
	return f, nil
}
