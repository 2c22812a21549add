package integration

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"       // "pgx"
	_ "github.com/ncruces/go-sqlite3/driver" // "sqlite3"
	_ "github.com/ncruces/go-sqlite3/embed"  // its SQLite build
	_ "modernc.org/sqlite"                   // "sqlite"

	"github.com/outhook/webhook/sqlstore"
)

// pgURLEnv names the PostgreSQL server the tests use; scripts/with-postgres.sh
// sets it. Unset, the PostgreSQL tests skip, except under CI=true where
// they fail.
const pgURLEnv = "OUTHOOK_TEST_POSTGRES_URL"

// sqliteDriver is the driver the SQLite tests use: see docs/sqlstore.md
// for the measurement behind the choice.
const sqliteDriver = "sqlite"

// pgURL returns the test server's URL, or skips the test.
func pgURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(pgURLEnv)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set and CI=true: run the tests through scripts/with-postgres.sh (make test does)", pgURLEnv)
		}
		t.Skipf("%s is not set: run through scripts/with-postgres.sh to test PostgreSQL", pgURLEnv)
	}
	return u
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// withParam adds a query parameter to a connection URL.
func withParam(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgSchema creates a schema of its own for the test (dropped at cleanup)
// and returns a URL whose connections use it.
func pgSchema(t testing.TB) string {
	t.Helper()
	base := pgURL(t)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := randomName("t_")
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	})
	return withParam(base, "search_path", schema)
}

// openPG opens a pool on a fresh schema.
func openPG(t testing.TB) (*sql.DB, string) {
	t.Helper()
	u := pgSchema(t)
	db := openPGURL(t, u)
	return db, u
}

// pgListening opens a fresh schema: a pool of its own for the test's
// direct SQL, and a Store with the LISTEN hook on a second pool.
func pgListening(t testing.TB) (*sql.DB, *sqlstore.Store) {
	t.Helper()
	u := pgSchema(t)
	db := openPGURL(t, u)
	return db, newStore(t, openPGURL(t, u), sqlstore.Postgres, &sqlstore.Options{WaitForNotification: pgxWait})
}

func openPGURL(t testing.TB, u string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	// database/sql keeps only 2 idle connections by default: with more
	// workers than that, every release would close a connection and the
	// next query open one (a fork on the server).
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(10)
	t.Cleanup(func() { db.Close() })
	return db
}

// sqliteDSN is how the tests open a SQLite file: WAL, a busy timeout, and
// transactions that take the write lock at BEGIN. Both drivers read the
// same parameters.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// openSQLite opens a fresh database file in the test's directory.
func openSQLite(t testing.TB, driverName string) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outhook.db")
	return openSQLitePath(t, driverName, path), path
}

func openSQLitePath(t testing.TB, driverName, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, sqliteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	t.Cleanup(func() { db.Close() })
	return db
}

// newStore migrates and returns a Store on db.
func newStore(t testing.TB, db *sql.DB, dialect sqlstore.Dialect, opts *sqlstore.Options) *sqlstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := sqlstore.Open(ctx, db, dialect, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// backend is one database the tests run on.
type backend struct {
	name    string
	dialect sqlstore.Dialect
	open    func(t testing.TB) *sql.DB
}

func backends() []backend {
	return []backend{
		{"postgres", sqlstore.Postgres, func(t testing.TB) *sql.DB { db, _ := openPG(t); return db }},
		{"sqlite", sqlstore.SQLite, func(t testing.TB) *sql.DB { db, _ := openSQLite(t, sqliteDriver); return db }},
	}
}

func isPG(b backend) bool { return strings.HasPrefix(b.name, "postgres") }
