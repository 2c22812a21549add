package sqlstore

import (
	"context"
	"errors"
	"strings"

	webhook "github.com/outhook/webhook"
)

// oneStatementMax is the largest fan-out Enqueue writes in one statement
// on PostgreSQL; more deliveries take the transaction of enqueue.
const oneStatementMax = deliveryChunk

// deliveryCasts are the types of the deliveries' columns as enqueueOne
// writes them: parameters in a VALUES list need them, as PostgreSQL does
// not infer them from the INSERT's target there.
var deliveryCasts = [deliveryCols]string{"text", "text", "text", "text", "text", "text", "integer", "bigint", "bigint", "text", "bigint", "bigint"}

// enqueueOne is Enqueue on PostgreSQL in one autocommitted statement, so
// one round trip instead of five (BEGIN, the two INSERTs, NOTIFY,
// COMMIT): a data-modifying WITH inserts the event (ON CONFLICT DO
// NOTHING), then the deliveries only if the event was inserted, then
// notifies listeners if any delivery was. A statement is atomic, as the
// transaction was.
func (s *Store) enqueueOne(ctx context.Context, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	md, err := encodeMetadata(ev.Metadata)
	if err != nil {
		return err
	}
	args := make([]any, 0, 7+len(deliveries)*deliveryCols)
	args = append(args, ev.ID, ev.Type, ev.TenantID, clampNanos(ev.CreatedAt), body, md)
	var sb strings.Builder
	sb.WriteString(`WITH e AS (INSERT INTO {p}events (id, type, tenant_id, created_at, body, metadata)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id)`)
	if len(deliveries) > 0 {
		sb.WriteString(`, d AS (INSERT INTO {p}deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
			next_attempt_at, due_at, last_error, created_at, updated_at)
		SELECT v.* FROM (VALUES `)
		for i, d := range deliveries {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for c, typ := range deliveryCasts {
				if c > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString("?::" + typ)
			}
			sb.WriteByte(')')
			state := d.State
			if state == "" {
				state = webhook.StatePending
			}
			next := clampNanos(d.NextAttemptAt)
			args = append(args, d.ID, d.EventID, d.EventType, d.TenantID, d.EndpointID, string(state), d.Attempts,
				next, next, d.LastError, clampNanos(d.CreatedAt), clampNanos(d.UpdatedAt))
		}
		sb.WriteString(`) v WHERE EXISTS (SELECT 1 FROM e) RETURNING 1)
		SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM (SELECT pg_notify(?, '') FROM (SELECT 1 FROM d LIMIT 1) one) n)`)
	} else {
		// No deliveries, no NOTIFY: the channel parameter is unused, so
		// its type is said.
		sb.WriteString(` SELECT (SELECT count(*) FROM e), length(?::text)`)
	}
	query := sb.String()
	args = append(args, s.channel)
	var inserted, other int64
	if err := s.db.QueryRowContext(ctx, s.q(query), args...).Scan(&inserted, &other); err != nil {
		return err
	}
	if inserted == 0 {
		prev, err := s.GetEvent(ctx, ev.ID)
		if errors.Is(err, webhook.ErrNotFound) {
			return webhook.ErrDuplicateEvent // pruned meanwhile
		}
		if err != nil {
			return err
		}
		prev.Body, prev.Metadata = nil, nil
		return &webhook.DuplicateEventError{Existing: prev}
	}
	return nil
}
