package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// Dialect names the SQL database behind the *sql.DB.
type Dialect string

// The dialects sqlstore speaks.
const (
	// Postgres is PostgreSQL 12 or newer, through any database/sql driver
	// (pgx's stdlib, lib/pq).
	Postgres Dialect = "postgres"
	// SQLite is SQLite 3.35 or newer (RETURNING) with the JSON functions
	// (built in since 3.38), through any database/sql driver
	// (modernc.org/sqlite, github.com/ncruces/go-sqlite3,
	// mattn/go-sqlite3). A Store runs its write transactions on one
	// connection it keeps while writes come (docs/sqlstore.md, "One writer
	// per Store").
	SQLite Dialect = "sqlite"
)

// Defaults of Options.
const (
	// TablePrefixDefault starts the name of every table and index.
	TablePrefixDefault = "outhook_"
	// RetentionDefault is how long ended deliveries and their attempts are
	// kept before Maintain deletes them.
	RetentionDefault = 30 * 24 * time.Hour
	// PruneBatchDefault is how many deliveries one pruning transaction
	// deletes.
	PruneBatchDefault = 500
	// ResponseExcerptDefault is how many bytes of a response body an
	// attempt keeps.
	ResponseExcerptDefault = 4096
	// PollIntervalDefault is how often Listen looks for changes on SQLite.
	PollIntervalDefault = 100 * time.Millisecond
)

// Options configure a Store. The zero value (or nil) is valid.
type Options struct {
	// TablePrefix starts the name of every table and index, so the tables
	// can live in a schema the application already uses. Lowercase
	// letters, digits and underscores, starting with a letter, at most 40
	// bytes. Defaults to TablePrefixDefault.
	TablePrefix string

	// EncryptionKeys, when set, encrypt endpoint secrets at rest with
	// AES-256-GCM. The first key encrypts new secrets; every key decrypts
	// the secrets that name it. To rotate, put a new key first and keep the
	// old ones until ReencryptSecrets has run. With several processes on
	// one database, first add the new key after the current one
	// everywhere, and only then put it first (docs/sqlstore.md has the
	// steps). Defaults to none: secrets are stored as they are.
	EncryptionKeys []EncryptionKey

	// Retention is how long ended (succeeded or failed) deliveries, their
	// attempts and their events are kept, counted from the delivery's last
	// update. Negative keeps everything. Defaults to RetentionDefault.
	Retention time.Duration
	// PruneBatch is how many deliveries one short pruning transaction
	// deletes. Defaults to PruneBatchDefault.
	PruneBatch int

	// ResponseExcerpt is how many bytes of a response body an attempt
	// keeps; longer bodies are cut at a UTF-8 boundary. Defaults to
	// ResponseExcerptDefault.
	ResponseExcerpt int

	// WaitForNotification, on PostgreSQL, lets Listen use LISTEN/NOTIFY:
	// it is called with the driver's connection (the value
	// (*sql.Conn).Raw hands out) after Listen ran LISTEN on it, and must
	// block until a notification arrives (return nil) or ctx is done
	// (return an error). With pgx's stdlib:
	//
	//	func(ctx context.Context, dc any) error {
	//		_, err := dc.(*stdlib.Conn).Conn().WaitForNotification(ctx)
	//		return err
	//	}
	//
	// sqlstore imports no driver, hence the hook. Defaults to nil: Listen
	// then only waits for ctx and deliveries committed elsewhere go out at
	// the dispatcher's next poll.
	WaitForNotification func(ctx context.Context, driverConn any) error

	// PollInterval is how often Listen reads the change counter on
	// SQLite. Defaults to PollIntervalDefault.
	PollInterval time.Duration

	// Logger receives what the Store handles without failing the call,
	// so cannot return as an error: Claim leaving out the deliveries of
	// an endpoint whose secret does not decrypt with EncryptionKeys, or
	// whose stored events or headers do not decode (logged at Error level
	// with the endpoint ID; the deliveries are due again when the lease
	// ends, and their LastError says why). Defaults to slog.Default().
	Logger *slog.Logger
}

// Store is a webhook.Store in PostgreSQL or SQLite. It also implements the
// optional abilities webhook.TxEnqueuer and webhook.InTxEnqueuer (the
// transactional outbox, in a *sql.Tx or any driver's transaction),
// webhook.Notifier, webhook.Maintainer (retention pruning),
// webhook.StatsReader (backlog and recent outcomes) and
// webhook.TenantSecretStore (one secret per tenant), and
// webhook.ManyEnqueuer and webhook.InTxManyEnqueuer (batches, for
// Dispatcher.PublishMany).
//
// Make the schema with Migrate (or use Open) before anything else.
type Store struct {
	db      *sql.DB
	dialect Dialect
	dia     dialect // the SQL that differs with dialect (dialect.go)
	prefix  string
	opts    Options
	keys    keyring
	channel string // NOTIFY channel on PostgreSQL
	queries *queryCache
	lite    *liteWriter   // SQLite: runs every write transaction
	match   *matchSupport // EnqueueMatching's state
}

var (
	_ webhook.Store             = (*Store)(nil)
	_ webhook.TxEnqueuer        = (*Store)(nil)
	_ webhook.InTxEnqueuer      = (*Store)(nil)
	_ webhook.Notifier          = (*Store)(nil)
	_ webhook.Maintainer        = (*Store)(nil)
	_ webhook.StatsReader       = (*Store)(nil)
	_ webhook.TenantSecretStore = (*Store)(nil)
	_ webhook.RateLimitStore    = (*Store)(nil)
)

// KeepsRateLimit implements webhook.RateLimitStore: Endpoint.RateLimit is
// kept in the endpoints table (rate_per_second, rate_burst; schema
// version 6).
func (s *Store) KeepsRateLimit() {}

var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// New returns a Store on db, which must reach a database of the given
// dialect. It does no I/O: run Migrate before use, or call Open.
func New(db *sql.DB, dialect Dialect, opts *Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: db is nil")
	}
	dia := dialects[dialect]
	if dia == nil {
		return nil, fmt.Errorf("sqlstore: unknown dialect %q: use sqlstore.Postgres or sqlstore.SQLite", dialect)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.TablePrefix == "" {
		o.TablePrefix = TablePrefixDefault
	}
	if !prefixPattern.MatchString(o.TablePrefix) {
		return nil, fmt.Errorf("sqlstore: TablePrefix %q: use lowercase letters, digits and underscores, starting with a letter, at most 40 bytes", o.TablePrefix)
	}
	if o.Retention == 0 {
		o.Retention = RetentionDefault
	}
	if o.PruneBatch <= 0 {
		o.PruneBatch = PruneBatchDefault
	}
	if o.ResponseExcerpt <= 0 {
		o.ResponseExcerpt = ResponseExcerptDefault
	}
	if o.PollInterval <= 0 {
		o.PollInterval = PollIntervalDefault
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	keys, err := newKeyring(o.EncryptionKeys)
	if err != nil {
		return nil, err
	}
	o.EncryptionKeys = append([]EncryptionKey(nil), o.EncryptionKeys...)
	var lite *liteWriter
	if dialect == SQLite {
		lite = newLiteWriter(db)
	}
	return &Store{
		lite:    lite,
		db:      db,
		dialect: dialect,
		dia:     dia,
		prefix:  o.TablePrefix,
		opts:    o,
		keys:    keys,
		channel: o.TablePrefix + "deliveries",
		queries: &queryCache{},
		match:   &matchSupport{},
	}, nil
}

// Open is New followed by Migrate.
func Open(ctx context.Context, db *sql.DB, dialect Dialect, opts *Options) (*Store, error) {
	s, err := New(db, dialect, opts)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// DB returns the database the Store uses.
func (s *Store) DB() *sql.DB { return s.db }

// querier is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// placeholders returns "?, ?, ?" for n parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// inTx runs fn in a transaction that holds the write lock from its start:
// a plain transaction on PostgreSQL (row locks do the rest), BEGIN
// IMMEDIATE on SQLite so that two writers never both read and then fail to
// upgrade. If fn panics, the transaction is rolled back before the panic
// goes on, so no PostgreSQL transaction stays open holding its connection
// and locks, and no SQLite connection goes back to the pool inside BEGIN
// IMMEDIATE.
func (s *Store) inTx(ctx context.Context, fn func(tx querier) error) error {
	return s.dia.writeTx(ctx, s, fn)
}

// inConnTx runs fn in a transaction that begin (statements without
// parameters, sent as one) opens on a connection of the pool, and commits
// it; it rolls back on every way out that did not commit, a panic
// included.
func (s *Store) inConnTx(ctx context.Context, begin string, fn func(tx querier) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: conn: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		// begin may be two statements, the first of which ran: never hand
		// the connection back inside a transaction.
		s.rollbackConn(ctx, conn)
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	// ended is set once COMMIT or ROLLBACK ran; if fn panics it is not,
	// and the deferred call (which runs before conn.Close) rolls back.
	ended := false
	defer func() {
		if !ended {
			s.rollbackConn(ctx, conn)
		}
	}()
	if err := fn(conn); err != nil {
		ended = true
		s.rollbackConn(ctx, conn)
		return err
	}
	ended = true
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.rollbackConn(ctx, conn)
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// rollbackConn ends the transaction open on conn. It runs detached from
// ctx (which may be what failed), and if even that fails it tells
// database/sql to throw the connection away rather than hand a connection
// inside a transaction to the next caller, and reports false.
func (s *Store) rollbackConn(ctx context.Context, conn *sql.Conn) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(rctx, "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return false
	}
	return true
}

// nanos turns a time into the stored form of a nullable column: NULL for
// the zero time, else clampNanos.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return clampNanos(t)
}

// The times unix nanoseconds in an int64 can hold (years 1677 to 2262).
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// clampNanos is the one conversion of every time the Store writes or
// compares with a column: t.UnixNano(), with times outside the int64 range
// held at its ends (saturated) instead of wrapping around (time.UnixNano
// is undefined there: year 3000 would come out as 1830, and an expiry
// after 2262 would land in the past). Nullable columns go through nanos.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newID returns 128 random bits in hex, for lease tokens and IDs the
// caller left empty.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("sqlstore: crypto/rand: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
