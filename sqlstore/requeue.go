package sqlstore

// Requeue: queuing ended deliveries again (Redeliver, Recover).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	webhook "github.com/outhook/webhook"
)

// Requeue implements webhook.Store.
func (s *Store) Requeue(ctx context.Context, p webhook.RequeueParams) (int, error) {
	if (p.DeliveryID == "") == (p.EndpointID == "") {
		return 0, &webhook.ValidationError{Field: "RequeueParams", Reason: "set exactly one of DeliveryID and EndpointID"}
	}
	now := clampNanos(p.Now)
	since := int64(math.MinInt64)
	if !p.Since.IsZero() {
		since = clampNanos(p.Since)
	}
	n := 0
	err := s.inTx(ctx, func(tx querier) error {
		var (
			res sql.Result
			err error
		)
		// The endpoint's row is locked before its disabled flag is read, as
		// DisableEndpoint does: a disable committing in between would
		// otherwise find nothing pending to end, and this would then queue
		// deliveries of a disabled endpoint.
		if p.DeliveryID != "" {
			var state, endpointID string
			err = tx.QueryRowContext(ctx, s.q(`SELECT state, endpoint_id FROM {p}deliveries WHERE id = ?`), p.DeliveryID).
				Scan(&state, &endpointID)
			if errors.Is(err, sql.ErrNoRows) {
				return webhook.ErrNotFound
			}
			if err != nil {
				return err
			}
			var disabled bool
			disabled, err = s.isDisabled(ctx, tx, endpointID, true)
			if errors.Is(err, webhook.ErrNotFound) {
				return nil // the endpoint is gone: nothing to queue for
			}
			if err != nil {
				return err
			}
			if disabled || state == string(webhook.StatePending) {
				return nil
			}
			res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,
				due_at = ?, claim_token = NULL, leased_until = NULL, last_error = '', updated_at = ? WHERE id = ? AND state <> 'pending'`),
				now, now, now, p.DeliveryID)
		} else {
			var disabled bool
			disabled, err = s.isDisabled(ctx, tx, p.EndpointID, true)
			if err != nil || disabled {
				return err
			}
			res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,
				due_at = ?, claim_token = NULL, leased_until = NULL, last_error = '', updated_at = ?
				WHERE endpoint_id = ? AND state = 'failed' AND created_at >= ?`),
				now, now, now, p.EndpointID, since)
		}
		if err != nil {
			return err
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(affected)
		if n > 0 {
			return s.signal(ctx, webhook.WrapSQLTx(tx))
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, webhook.ErrNotFound) {
			return 0, err
		}
		return 0, fmt.Errorf("sqlstore: requeue: %w", err)
	}
	return n, nil
}
