package integration

import (
	"context"
	"database/sql"
	"testing"
)

// dropPrefix drops the tables a Store with prefix made in the current
// schema (PostgreSQL).
func dropPrefix(t testing.TB, db *sql.DB, prefix string) {
	t.Helper()
	ctx := context.Background()
	for _, tbl := range []string{"attempts", "deliveries", "events", "secrets", "tenant_secrets", "endpoints", "schema_migrations", "signal"} {
		_, _ = db.ExecContext(ctx, `DROP TABLE IF EXISTS `+prefix+tbl)
	}
}
