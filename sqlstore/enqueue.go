package sqlstore

// Enqueue: events and their deliveries, in a transaction of the Store or
// of the application (the transactional outbox).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// Enqueue implements webhook.Store.
func (s *Store) Enqueue(ctx context.Context, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	if s.dialect == Postgres && len(deliveries) <= oneStatementMax {
		err := s.enqueueOne(ctx, ev, deliveries)
		if err != nil && !errors.Is(err, webhook.ErrDuplicateEvent) {
			return fmt.Errorf("sqlstore: enqueue: %w", err)
		}
		return err
	}
	err := s.inTx(ctx, func(tx querier) error { return s.enqueue(ctx, webhook.WrapSQLTx(tx), ev, deliveries) })
	if err != nil && !errors.Is(err, webhook.ErrDuplicateEvent) {
		return fmt.Errorf("sqlstore: enqueue: %w", err)
	}
	return err
}

// EnqueueTx implements webhook.TxEnqueuer: the event and its deliveries
// are written inside tx, the application's own transaction, so they exist
// only if tx commits. On PostgreSQL a NOTIFY is queued in tx too and
// reaches listening dispatchers at commit. A duplicate event ID returns a
// *webhook.DuplicateEventError holding the event as tx sees it (so an
// event this same tx enqueued before counts), without spoiling tx (the
// insert is ON CONFLICT DO NOTHING). tx must belong to the Store's
// database.
func (s *Store) EnqueueTx(ctx context.Context, tx *sql.Tx, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	if tx == nil {
		return fmt.Errorf("sqlstore: enqueue: tx is nil")
	}
	return s.EnqueueInTx(ctx, webhook.WrapSQLTx(tx), ev, deliveries)
}

// EnqueueInTx implements webhook.InTxEnqueuer: EnqueueTx for a
// transaction of any driver, given as a webhook.Tx (pgxtx.Wrap of a
// pgx.Tx, webhook.WrapSQLTx). It runs the same statements as EnqueueTx,
// in the Store's dialect: tx must be a transaction on the Store's
// database. On PostgreSQL the NOTIFY is queued in tx and sent at commit.
func (s *Store) EnqueueInTx(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	if tx == nil {
		return fmt.Errorf("sqlstore: enqueue: tx is nil")
	}
	err := s.enqueue(ctx, tx, ev, deliveries)
	if err != nil && !errors.Is(err, webhook.ErrDuplicateEvent) {
		return fmt.Errorf("sqlstore: enqueue: %w", err)
	}
	return err
}

// deliveryChunk rows per INSERT keeps under every driver's parameter limit.
const deliveryChunk = 200

func (s *Store) enqueue(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	inserted, err := s.insertEvent(ctx, tx, ev)
	if err != nil {
		return err
	}
	if !inserted {
		return s.duplicate(ctx, tx, ev.ID)
	}
	if err := s.insertDeliveries(ctx, tx, deliveries); err != nil {
		return err
	}
	if len(deliveries) > 0 {
		return s.signal(ctx, tx)
	}
	return nil
}

// insertEvent writes ev unless its ID exists (ON CONFLICT DO NOTHING),
// and reports whether it did.
func (s *Store) insertEvent(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent) (bool, error) {
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	md, err := encodeMetadata(ev.Metadata)
	if err != nil {
		return false, err
	}
	n, err := tx.Exec(ctx, s.q(`INSERT INTO {p}events (id, type, tenant_id, created_at, body, metadata)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`), ev.ID, ev.Type, ev.TenantID, clampNanos(ev.CreatedAt), body, md)
	return n > 0, err
}

// insertDeliveries writes deliveries with multi-row INSERTs of at most
// deliveryChunk rows.
func (s *Store) insertDeliveries(ctx context.Context, tx webhook.Tx, deliveries []*webhook.Delivery) error {
	for start := 0; start < len(deliveries); start += deliveryChunk {
		chunk := deliveries[start:min(start+deliveryChunk, len(deliveries))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO {p}deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
			next_attempt_at, due_at, last_error, created_at, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*12)
		for i, d := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + placeholders(12) + ")")
			state := d.State
			if state == "" {
				state = webhook.StatePending
			}
			next := clampNanos(d.NextAttemptAt)
			args = append(args, d.ID, d.EventID, d.EventType, d.TenantID, d.EndpointID, string(state), d.Attempts,
				next, next, d.LastError, clampNanos(d.CreatedAt), clampNanos(d.UpdatedAt))
		}
		if _, err := tx.Exec(ctx, s.q(sb.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

// duplicate reads the event already stored under id through tx, the
// transaction whose insert conflicted, and returns it in a
// *webhook.DuplicateEventError: inside an application's transaction that
// is the only way the dispatcher can learn of an event the transaction
// wrote itself and has not committed. If the row cannot be read (a
// snapshot that predates it), plain ErrDuplicateEvent is returned and the
// caller reads the event its own way.
func (s *Store) duplicate(ctx context.Context, tx webhook.Tx, id string) error {
	var (
		ev      webhook.StoredEvent
		created int64
	)
	err := tx.QueryRow(ctx, s.q(`SELECT id, type, tenant_id, created_at FROM {p}events WHERE id = ?`), id).
		Scan(&ev.ID, &ev.Type, &ev.TenantID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return webhook.ErrDuplicateEvent
	}
	if err != nil {
		return err
	}
	ev.CreatedAt = time.Unix(0, created).UTC()
	return &webhook.DuplicateEventError{Existing: &ev}
}

// signal tells Listen, in this and other processes, that deliveries were
// written: a NOTIFY on PostgreSQL (sent at commit, dropped on rollback,
// folded into one per transaction), the change counter on SQLite.
func (s *Store) signal(ctx context.Context, tx webhook.Tx) error {
	return s.dia.signal(ctx, s, tx)
}

// encodeMetadata is the stored form of event metadata: a JSON object, or
// NULL when there is none.
func encodeMetadata(md map[string]string) (any, error) {
	if len(md) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("event metadata: %w", err)
	}
	return string(b), nil
}

// decodeMetadata reads what encodeMetadata stored: nil for NULL.
func decodeMetadata(v sql.NullString) (map[string]string, error) {
	if !v.Valid || v.String == "" {
		return nil, nil
	}
	var md map[string]string
	if err := json.Unmarshal([]byte(v.String), &md); err != nil {
		return nil, fmt.Errorf("event metadata: %w", err)
	}
	if len(md) == 0 {
		return nil, nil
	}
	return md, nil
}
