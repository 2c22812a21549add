package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	webhook "github.com/outhook/webhook"
)

// Stats implements webhook.StatsReader, reading one snapshot (a read-only
// REPEATABLE READ transaction on PostgreSQL, one read transaction on
// SQLite). Every count comes from an index of schema version 3:
//
//   - pending: the pending rows only, through a partial index of them
//     (for every endpoint; per endpoint in scope through (endpoint_id,
//     created_at) WHERE state = 'pending'), so it costs in proportion to
//     the backlog, not to the table;
//   - with a Window: per endpoint in scope, three range counts on the
//     indexes of attempts (endpoint_id, success, started_at) and of failed
//     deliveries (endpoint_id, updated_at), so it costs in proportion to
//     the endpoints in scope and the rows in the window;
//   - disabled endpoints: the partial index of disabled endpoints, or the
//     endpoint rows in scope with ByEndpoint or a Window.
func (s *Store) Stats(ctx context.Context, p webhook.StatsParams) (*webhook.Stats, error) {
	var st *webhook.Stats
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		st, err = s.stats(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: stats: %w", err)
	}
	return st, nil
}

// readTx runs fn in a read-only transaction that sees one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, s.dia.snapshotTx())
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// statsScope returns the condition on the endpoints aliased e that p's
// scope sets ("1 = 1" for every endpoint) and its arguments.
func statsScope(p webhook.StatsParams) (string, []any) {
	var (
		where []string
		args  []any
	)
	if p.TenantID != "" {
		where = append(where, "e.tenant_id = ?")
		args = append(args, p.TenantID)
	}
	if len(p.EndpointIDs) > 0 {
		seen := map[string]bool{}
		var ids []any
		for _, id := range p.EndpointIDs {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		where = append(where, "e.id IN ("+placeholders(len(ids))+")")
		args = append(args, ids...)
	}
	if len(where) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(where, " AND "), args
}

func (s *Store) stats(ctx context.Context, tx *sql.Tx, p webhook.StatsParams) (*webhook.Stats, error) {
	scope, scopeArgs := statsScope(p)
	st := &webhook.Stats{Now: p.Now, Window: p.Window}
	per := map[string]*webhook.EndpointStats{}
	// order keeps the endpoints as the query returned them, so totals are
	// summed in a fixed order.
	var order []string

	if p.ByEndpoint || p.Window > 0 {
		query := `SELECT e.id, e.tenant_id, e.disabled`
		var args []any
		if p.Window > 0 {
			from, to := clampNanos(p.Now.Add(-p.Window)), clampNanos(p.Now)
			query += `,
			(SELECT COUNT(*) FROM {p}attempts a WHERE a.endpoint_id = e.id AND a.success = 1 AND a.started_at >= ? AND a.started_at < ?),
			(SELECT COUNT(*) FROM {p}attempts a WHERE a.endpoint_id = e.id AND a.success = 0 AND a.started_at >= ? AND a.started_at < ?),
			(SELECT COUNT(*) FROM {p}deliveries d WHERE d.endpoint_id = e.id AND d.state = 'failed' AND d.updated_at >= ? AND d.updated_at < ?)`
			args = append(args, from, to, from, to, from, to)
		}
		query += ` FROM {p}endpoints e WHERE ` + scope
		rows, err := tx.QueryContext(ctx, s.q(query), append(args, scopeArgs...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				es       webhook.EndpointStats
				disabled int
			)
			dest := []any{&es.EndpointID, &es.TenantID, &disabled}
			if p.Window > 0 {
				dest = append(dest, &es.Succeeded, &es.Failed, &es.DeliveriesFailed)
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return nil, err
			}
			es.Disabled = disabled != 0
			if es.Disabled {
				st.EndpointsDisabled++
			}
			per[es.EndpointID] = &es
			order = append(order, es.EndpointID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	} else {
		err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM {p}endpoints e WHERE e.disabled = 1 AND `+scope), scopeArgs...).
			Scan(&st.EndpointsDisabled)
		if err != nil {
			return nil, err
		}
	}

	rows, err := tx.QueryContext(ctx, s.q(`SELECT d.endpoint_id, COUNT(*), MIN(d.created_at) FROM {p}deliveries d
		WHERE d.state = 'pending' AND d.endpoint_id IN (SELECT e.id FROM {p}endpoints e WHERE `+scope+`)
		GROUP BY d.endpoint_id`), scopeArgs...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			id     string
			n      int
			oldest sql.NullInt64
		)
		if err := rows.Scan(&id, &n, &oldest); err != nil {
			rows.Close()
			return nil, err
		}
		es := per[id]
		if es == nil {
			// Only when neither ByEndpoint nor a Window asked for the
			// endpoint rows: the totals need the counts alone.
			es = &webhook.EndpointStats{EndpointID: id}
			per[id] = es
			order = append(order, id)
		}
		es.Pending = n
		es.OldestPendingAt = fromNanos(oldest)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	if p.ByEndpoint {
		st.Endpoints = make(map[string]webhook.EndpointStats, len(per))
	}
	for _, id := range order {
		es := per[id]
		st.Add(es.Counts)
		if st.Endpoints != nil {
			st.Endpoints[id] = *es
		}
	}
	return st, nil
}
