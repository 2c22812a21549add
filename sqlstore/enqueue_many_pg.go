package sqlstore

import (
	"context"
	"encoding/json"

	webhook "github.com/outhook/webhook"
)

// On PostgreSQL a batch goes as one JSON parameter per table, unpacked by
// json_to_recordset: one short statement text whatever the batch size, so
// the server parses and plans a few hundred bytes instead of a VALUES list
// of up to 65535 parameters, and the driver's statement cache hits.

type pgEventRow struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	TenantID  string  `json:"tenant_id"`
	CreatedAt int64   `json:"created_at"`
	Body      []byte  `json:"body"` // base64, decoded in SQL
	Metadata  *string `json:"metadata"`
}

type pgDeliveryRow struct {
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	TenantID   string `json:"tenant_id"`
	EndpointID string `json:"endpoint_id"`
	State      string `json:"state"`
	Attempts   int    `json:"attempts"`
	Next       int64  `json:"next_attempt_at"`
	LastError  string `json:"last_error"`
	CreatedAt  int64  `json:"created_at"`
	UpdatedAt  int64  `json:"updated_at"`
}

// insertEventsPG writes events on PostgreSQL (ON CONFLICT DO NOTHING) and
// returns how many it inserted.
func (s *Store) insertEventsPG(ctx context.Context, tx webhook.Tx, events []*webhook.StoredEvent) (int64, error) {
	evRows := make([]pgEventRow, len(events))
	for i, ev := range events {
		md, err := encodeMetadata(ev.Metadata)
		if err != nil {
			return 0, err
		}
		r := pgEventRow{ID: ev.ID, Type: ev.Type, TenantID: ev.TenantID, CreatedAt: clampNanos(ev.CreatedAt), Body: ev.Body}
		if r.Body == nil {
			r.Body = []byte{}
		}
		if m, ok := md.(string); ok {
			r.Metadata = &m
		}
		evRows[i] = r
	}
	evJSON, err := json.Marshal(evRows)
	if err != nil {
		return 0, err
	}
	n, err := tx.Exec(ctx, s.q(`INSERT INTO {p}events (id, type, tenant_id, created_at, body, metadata)
		SELECT x.id, x.type, x.tenant_id, x.created_at, decode(x.body, 'base64'), x.metadata
		FROM json_to_recordset(?::json) AS x(id text, type text, tenant_id text, created_at bigint, body text, metadata text)
		ON CONFLICT (id) DO NOTHING`), string(evJSON))
	return n, err
}

// insertDeliveriesPG writes deliveries on PostgreSQL.
func (s *Store) insertDeliveriesPG(ctx context.Context, tx webhook.Tx, ds []*webhook.Delivery) error {
	dRows := make([]pgDeliveryRow, len(ds))
	for i, d := range ds {
		state := d.State
		if state == "" {
			state = webhook.StatePending
		}
		dRows[i] = pgDeliveryRow{ID: d.ID, EventID: d.EventID, EventType: d.EventType, TenantID: d.TenantID, EndpointID: d.EndpointID,
			State: string(state), Attempts: d.Attempts, Next: clampNanos(d.NextAttemptAt), LastError: d.LastError,
			CreatedAt: clampNanos(d.CreatedAt), UpdatedAt: clampNanos(d.UpdatedAt)}
	}
	dJSON, err := json.Marshal(dRows)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, s.q(`INSERT INTO {p}deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
			next_attempt_at, due_at, last_error, created_at, updated_at)
		SELECT x.id, x.event_id, x.event_type, x.tenant_id, x.endpoint_id, x.state, x.attempts,
			x.next_attempt_at, x.next_attempt_at, x.last_error, x.created_at, x.updated_at
		FROM json_to_recordset(?::json) AS x(id text, event_id text, event_type text, tenant_id text, endpoint_id text, state text,
			attempts integer, next_attempt_at bigint, last_error text, created_at bigint, updated_at bigint)`), string(dJSON))
	return err
}
