package sqlstore

// The dialect of PostgreSQL (see dialect.go).

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	webhook "github.com/outhook/webhook"
)

// postgres is PostgreSQL's dialect.
type postgres struct{}

// bind numbers the parameters: $1, $2, ... The queries in this package
// contain no literal '?'.
func (postgres) bind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// maxParams is what PostgreSQL's protocol allows.
func (postgres) maxParams() int { return 65535 }

// inList is one parameter, the IDs as an array literal (pgArray)
// unnested: one statement text whatever the number of IDs, so a list's
// statement is parsed and planned once, not once per length (with a
// placeholder per ID, every length was a statement of its own, each
// prepared and planned anew: a tenth of the server's time in a live run).
// unnest's planner support estimates few rows, so the plan looks the rows
// up by index whatever the table's size.
func (postgres) inList(ids []string) (string, []any) {
	return `SELECT unnest(CAST(? AS text)::text[])`, []any{pgArray(ids)}
}

// pgArray is vals as a PostgreSQL array literal of text: every element
// quoted, backslash and double quote escaped, so any string round trips.
// Bound as text and cast to text[] in the statement (as inList does), it
// needs no array support from the driver.
func pgArray(vals []string) string {
	n := 2
	for _, v := range vals {
		n += len(v) + 3
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for j := 0; j < len(v); j++ {
			if c := v[j]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// pgIntArray is vals as a PostgreSQL array literal of integers.
func pgIntArray[T ~int | ~int64](vals []T) string {
	var b strings.Builder
	b.Grow(2 + 12*len(vals))
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(int64(v), 10))
	}
	b.WriteByte('}')
	return b.String()
}

func (postgres) forUpdate(of string) string {
	if of == "" {
		return " FOR UPDATE"
	}
	return " FOR UPDATE OF " + of
}

func (p postgres) forUpdateSkipLocked(of string) string {
	return p.forUpdate(of) + " SKIP LOCKED"
}

func (postgres) locksRows() bool { return true }

// serialize takes a transaction-level advisory lock named by key.
func (postgres) serialize(ctx context.Context, tx querier, key string) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key)
	return err
}

func (postgres) returningInWith() bool { return true }

// headOrder is the deliveries.seq column, which a sequence fills on
// insert; rows stored before schema version 5 that were ended then have
// none and sort first, by created_at and ID.
func (postgres) headOrder() string { return `d.seq NULLS FIRST, d.created_at, d.id` }

// endpointSeq is none: a sequence fills endpoints.seq.
func (postgres) endpointSeq() (col, val string) { return "", "" }

func (postgres) jsonArrays(cols string) string {
	return `COALESCE(json_agg(json_build_array(` + cols + `))::text, '[]')`
}

func (postgres) pairsOf() string {
	return `SELECT e->>0 AS did, e->>1 AS tok FROM json_array_elements(CAST(? AS json)) AS e`
}

// writeTx is a plain transaction: row locks do the rest. No transaction
// stays open holding its connection and locks after fn panics.
func (postgres) writeTx(ctx context.Context, s *Store, fn func(tx querier) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	// Rolls back on every way out that did not commit, a panic included;
	// after Commit it does nothing.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// claimTx does not wait for the commit's fsync. A lease need not survive
// a crash of the database server: a claim lost with it leaves its
// deliveries due, to be claimed and sent again (at least once), and the
// Complete that follows a surviving claim is a durable commit that
// flushes the claim's WAL with its own.
func (postgres) claimTx(ctx context.Context, s *Store, fn func(tx querier) error) error {
	return s.inConnTx(ctx, "BEGIN; SET LOCAL synchronous_commit TO off", fn)
}

func (postgres) snapshotTx() *sql.TxOptions {
	return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
}

// signal queues a NOTIFY: sent at commit, dropped on rollback, folded
// into one per transaction.
func (postgres) signal(ctx context.Context, s *Store, tx webhook.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, s.channel)
	return err
}
