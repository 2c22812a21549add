package sqlstore

import (
	"context"
	"database/sql/driver"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one versioned schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func (s *Store) migrations() ([]migration, error) {
	dir := path.Join("migrations", string(s.dialect))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s: name must start with a version number and _", name)
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: strings.ReplaceAll(string(b), "{prefix}", s.prefix)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// SchemaVersion is the newest schema version this package knows.
func (s *Store) SchemaVersion() int {
	ms, err := s.migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Migrate creates or upgrades the tables to the newest schema version.
// Several processes may run it at once: on PostgreSQL they queue on an
// advisory lock named after the table prefix, on SQLite on the database's
// write lock (BEGIN IMMEDIATE), and each applies only the versions that are
// still missing. Versions are applied in transactions (one per version on
// PostgreSQL, one for the run on SQLite) together with their record in
// TablePrefix+"schema_migrations". It fails, changing nothing, when the
// database holds a version newer than this package knows.
//
// On PostgreSQL the advisory lock is a session lock: run Migrate on a
// direct connection, not through a pooler in transaction mode.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	if s.dialect == SQLite {
		return s.migrateSQLite(ctx, ms)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()

	key := s.lockKey()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("sqlstore: migrate: advisory lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// Never hand a connection holding the lock back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	todo, err := s.pending(ctx, conn, ms)
	if err != nil {
		return err
	}
	for _, m := range todo {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		if err := s.apply(ctx, tx, m); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlstore: migrate %s: commit: %w", m.name, err)
		}
	}
	return nil
}

// migrateSQLite applies ms in one transaction holding the write lock for
// the whole run (DDL is transactional in SQLite too). Processes opening a
// new database file at the same moment can get SQLITE_BUSY before any
// busy timeout applies (switching the file to WAL takes an exclusive lock
// without waiting), so a busy start is retried for up to a minute.
func (s *Store) migrateSQLite(ctx context.Context, ms []migration) error {
	deadline := time.Now().Add(time.Minute)
	wait := 10 * time.Millisecond
	for {
		err := s.migrateSQLiteOnce(ctx, ms)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

func (s *Store) migrateSQLiteOnce(ctx context.Context, ms []migration) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlstore: migrate: begin immediate: %w", err)
	}
	err = func() error {
		todo, err := s.pending(ctx, conn, ms)
		if err != nil {
			return err
		}
		for _, m := range todo {
			if err := s.apply(ctx, conn, m); err != nil {
				return err
			}
		}
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}()
	if err != nil {
		s.rollbackConn(ctx, conn)
		return err
	}
	return nil
}

// isBusy reports whether err is SQLite's "database is locked", as the
// drivers word it (sqlstore sees no driver types).
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

func (s *Store) apply(ctx context.Context, tx querier, m migration) error {
	for _, stmt := range splitStatements(m.sql) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: migrate %s: %w", m.name, err)
		}
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO {p}schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, clampNanos(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlstore: migrate %s: record version: %w", m.name, err)
	}
	return nil
}

// pending makes the version table if needed and returns the migrations
// not yet applied, or an error if the database is newer than this package.
func (s *Store) pending(ctx context.Context, conn querier, ms []migration) ([]migration, error) {
	create := s.q(`CREATE TABLE IF NOT EXISTS {p}schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`)
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	applied, err := s.appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	if err := checkNewer(applied, ms); err != nil {
		return nil, err
	}
	var todo []migration
	for _, m := range ms {
		if !applied[m.version] {
			todo = append(todo, m)
		}
	}
	return todo, nil
}

func (s *Store) appliedVersions(ctx context.Context, db querier) (map[int]bool, error) {
	rows, err := db.QueryContext(ctx, s.q(`SELECT version FROM {p}schema_migrations`))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: read versions: %w", err)
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

func checkNewer(applied map[int]bool, ms []migration) error {
	known := 0
	if len(ms) > 0 {
		known = ms[len(ms)-1].version
	}
	for v := range applied {
		if v > known {
			return fmt.Errorf("sqlstore: migrate: the database has schema version %d but this version of sqlstore knows only up to %d: upgrade github.com/outhook/webhook", v, known)
		}
	}
	return nil
}

// lockKey names the advisory lock Migrate takes on PostgreSQL: one per
// table prefix, so stores with different prefixes do not wait on each
// other.
func (s *Store) lockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("outhook/sqlstore/migrate/" + s.prefix))
	return int64(h.Sum64())
}

// splitStatements cuts a migration into statements at semicolons that end
// a line, dropping comment lines. Migrations hold no semicolons inside
// string literals.
func splitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSpace(cur.String())
			out = append(out, strings.TrimSuffix(stmt, ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}
