package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// maxPruneBatches bounds the work of one Maintain call; the next call goes
// on where it stopped.
const maxPruneBatches = 200

// Maintain implements webhook.Maintainer: it deletes deliveries that ended
// (succeeded or failed) more than Options.Retention before now, with their
// attempts, then events older than that which no delivery refers to, and
// secrets, endpoints' and tenants', whose grace period is over. Each batch of Options.PruneBatch
// rows is its own short transaction, so no lock is held for long and
// workers and publishers go on meanwhile.
func (s *Store) Maintain(ctx context.Context, now time.Time) error {
	if s.opts.Retention < 0 {
		return nil
	}
	_, err := s.Prune(ctx, now.Add(-s.opts.Retention))
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(`DELETE FROM {p}secrets WHERE expires_at IS NOT NULL AND expires_at <= ?`), clampNanos(now))
	if err != nil {
		return fmt.Errorf("sqlstore: prune secrets: %w", err)
	}
	_, err = s.db.ExecContext(ctx, s.q(`DELETE FROM {p}tenant_secrets WHERE expires_at IS NOT NULL AND expires_at <= ?`), clampNanos(now))
	if err != nil {
		return fmt.Errorf("sqlstore: prune tenant secrets: %w", err)
	}
	return nil
}

// Prune deletes ended deliveries last updated before cutoff, their
// attempts, and events created before cutoff that no delivery refers to,
// in batches of Options.PruneBatch. It returns how many deliveries it
// deleted. Maintain calls it with now minus Options.Retention.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	cut := clampNanos(cutoff)
	total := 0
	for i := 0; i < maxPruneBatches; i++ {
		n := 0
		err := s.inTx(ctx, func(tx querier) error {
			rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM {p}deliveries
				WHERE state <> 'pending' AND updated_at < ? ORDER BY updated_at LIMIT ?`+s.dia.forUpdateSkipLocked("")), cut, s.opts.PruneBatch)
			if err != nil {
				return err
			}
			var ids []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(ids) == 0 {
				return nil
			}
			if err := s.updateIn(ctx, tx, `DELETE FROM {p}attempts WHERE delivery_id IN (%s)`, nil, ids); err != nil {
				return err
			}
			// Re-check the state: a Requeue may have queued a row again
			// (on SQLite nothing can run in between; on PostgreSQL the rows
			// are locked, so this is belt and braces).
			if err := s.updateIn(ctx, tx, `DELETE FROM {p}deliveries WHERE state <> 'pending' AND id IN (%s)`, nil, ids); err != nil {
				return err
			}
			n = len(ids)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("sqlstore: prune deliveries: %w", err)
		}
		total += n
		if n < s.opts.PruneBatch {
			break
		}
	}
	for i := 0; i < maxPruneBatches; i++ {
		res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM {p}events WHERE id IN (
			SELECT e.id FROM {p}events e WHERE e.created_at < ?
			AND NOT EXISTS (SELECT 1 FROM {p}deliveries d WHERE d.event_id = e.id)
			ORDER BY e.created_at LIMIT ?)`), cut, s.opts.PruneBatch)
		if err != nil {
			return total, fmt.Errorf("sqlstore: prune events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlstore: prune events: %w", err)
		}
		if n < int64(s.opts.PruneBatch) {
			break
		}
	}
	return total, nil
}
