package sqlstore

// What differs between PostgreSQL and SQLite, behind one interface: the
// Store's queries are written once, with ? parameters and {p} for the
// table prefix, and ask the dialect (s.dia) for the pieces whose text
// differs. postgres (dialect_postgres.go) and sqlite (dialect_sqlite.go)
// implement it.
//
// What is a different algorithm per database rather than a different piece
// of SQL stays a branch on s.dialect (the exported Dialect) at one entry
// point each:
//
//   - New: SQLite's single writer with group commit (liteWriter);
//   - Claim: PostgreSQL's one-statement claim for endpoints that need
//     nothing but the cap (claimFast), before the general way;
//   - Enqueue: PostgreSQL's one-statement enqueue (enqueueOne);
//   - enqueueMany: PostgreSQL's inserts with the rows as one JSON
//     parameter (enqueue_many_pg.go);
//   - completeSuccesses: PostgreSQL's fast path for a batch of successes;
//   - succeedMany: SQLite's UPDATE … FROM json_each (succeedLite) against
//     PostgreSQL's UPDATE … FROM unnest of one array per column;
//   - batchEndpoints: PostgreSQL's one statement reading and locking a
//     batch's endpoints;
//   - EnqueueMatching: one statement on PostgreSQL, one transaction of the
//     writer on SQLite (liteEnqueueMatching);
//   - Listen: LISTEN/NOTIFY against polling the change counter;
//   - Migrate: an advisory lock and a transaction per version against one
//     BEGIN IMMEDIATE transaction for the run.

import (
	"context"
	"database/sql"
	"strings"

	webhook "github.com/outhook/webhook"
)

// dialect is the SQL that differs between the databases a Store speaks.
type dialect interface {
	// bind rewrites the ? parameters of query into the database's form.
	bind(query string) string
	// maxParams is how many bind parameters one statement may carry.
	maxParams() int
	// inList returns what replaces %s in "IN (%s)" for ids, and the
	// arguments it binds.
	inList(ids []string) (string, []any)

	// forUpdate is the clause that ends a SELECT whose rows the
	// transaction goes on to write, locking them (those of the table
	// aliased of, or every table's when of is ""); empty where a write
	// transaction holds the whole database (SQLite).
	forUpdate(of string) string
	// forUpdateSkipLocked is forUpdate passing over the rows another
	// transaction holds.
	forUpdateSkipLocked(of string) string
	// locksRows reports whether write transactions run side by side, each
	// locking the rows it touches (PostgreSQL), so that one must take its
	// row locks itself, in an order that cannot deadlock, rather than one
	// at a time (SQLite).
	locksRows() bool
	// serialize makes the write transactions that call it with the same
	// key, in any process, run one after the other from the call to their
	// end: for checks over rows that do not exist yet.
	serialize(ctx context.Context, tx querier, key string) error

	// returningInWith reports whether an UPDATE … RETURNING may be a WITH
	// query of a SELECT (PostgreSQL), so one statement leases rows and
	// reads what Claim sends of them.
	returningInWith() bool
	// headOrder is the ORDER BY of an endpoint's pending deliveries
	// (aliased d) in publish order.
	headOrder() string
	// endpointSeq is the column, and its value, that an INSERT of an
	// endpoint writes ahead of endpointColumns: "" where the database
	// fills endpoints.seq itself.
	endpointSeq() (col, val string)
	// jsonArrays is the aggregate that reads the rows of a query as the
	// text of one JSON array holding, for each row, an array of the
	// comma-separated expressions cols ('[]' for no rows).
	jsonArrays(cols string) string
	// pairsOf is a subquery reading its one parameter, the text of a JSON
	// array of [delivery ID, token] string pairs, as rows of columns did
	// and tok.
	pairsOf() string

	// writeTx runs fn in a transaction that holds the write lock from its
	// start (the Store's inTx).
	writeTx(ctx context.Context, s *Store, fn func(tx querier) error) error
	// claimTx runs fn, a Claim, in a write transaction.
	claimTx(ctx context.Context, s *Store, fn func(tx querier) error) error
	// snapshotTx is the options of a read-only transaction that sees one
	// snapshot.
	snapshotTx() *sql.TxOptions
	// signal tells Listen, in this and other processes, that deliveries
	// were written in tx.
	signal(ctx context.Context, s *Store, tx webhook.Tx) error
}

// dialects maps each Dialect a Store speaks to its SQL.
var dialects = map[Dialect]dialect{
	Postgres: postgres{},
	SQLite:   sqlite{},
}

// inList returns what replaces %s in "IN (%s)" for ids, and the arguments
// it binds (see dialect).
func (s *Store) inList(ids []string) (string, []any) {
	return s.dia.inList(ids)
}

// liteIn rewrites query, written with "IN (%s)" for a list, for inList.
func (s *Store) liteIn(query string, ids []string) (string, []any) {
	list, args := s.inList(ids)
	return strings.Replace(query, "%s", list, 1), args
}
