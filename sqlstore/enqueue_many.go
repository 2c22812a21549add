package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

var (
	_ webhook.ManyEnqueuer     = (*Store)(nil)
	_ webhook.InTxManyEnqueuer = (*Store)(nil)
)

// Columns per row of the multi-row INSERTs.
const (
	eventCols    = 6
	deliveryCols = 12
)

// errRaced is a batch whose events another transaction inserted between
// the check and the insert.
var errRaced = fmt.Errorf("%w: another transaction stored some of the batch's event IDs meanwhile; retry the batch", webhook.ErrDuplicateEvent)

// EnqueueMany implements webhook.ManyEnqueuer: one transaction that reads
// which of the batch's IDs exist, then writes the new events and their
// deliveries (on PostgreSQL one INSERT per table, the rows as one JSON
// parameter; on SQLite multi-row INSERTs, as many rows per statement as
// its parameter limit allows) and signals listeners once. If
// another transaction stores some of the same IDs between the read and
// the write, the transaction is rolled back and run once more.
func (s *Store) EnqueueMany(ctx context.Context, events []*webhook.StoredEvent, deliveries [][]*webhook.Delivery) ([]*webhook.StoredEvent, error) {
	var existing []*webhook.StoredEvent
	var err error
	for try := 0; try < 2; try++ {
		err = s.inTx(ctx, func(tx querier) error {
			var err error
			existing, err = s.enqueueMany(ctx, webhook.WrapSQLTx(tx), events, deliveries)
			return err
		})
		if !errors.Is(err, errRaced) {
			break
		}
	}
	if err != nil && !errors.Is(err, webhook.ErrDuplicateEvent) {
		return nil, fmt.Errorf("sqlstore: enqueue many: %w", err)
	}
	return existing, err
}

// EnqueueManyInTx implements webhook.InTxManyEnqueuer: EnqueueMany inside
// tx, the application's transaction (of any driver, on the Store's
// database). A clash (*webhook.EventClashError) is found before anything
// is written; other errors may leave part of the batch in tx, which the
// application then rolls back.
func (s *Store) EnqueueManyInTx(ctx context.Context, tx webhook.Tx, events []*webhook.StoredEvent, deliveries [][]*webhook.Delivery) ([]*webhook.StoredEvent, error) {
	if tx == nil {
		return nil, fmt.Errorf("sqlstore: enqueue many: tx is nil")
	}
	existing, err := s.enqueueMany(ctx, tx, events, deliveries)
	if err != nil && !errors.Is(err, webhook.ErrDuplicateEvent) {
		return nil, fmt.Errorf("sqlstore: enqueue many: %w", err)
	}
	return existing, err
}

func (s *Store) enqueueMany(ctx context.Context, tx webhook.Tx, events []*webhook.StoredEvent, deliveries [][]*webhook.Delivery) ([]*webhook.StoredEvent, error) {
	if len(deliveries) != len(events) {
		return nil, fmt.Errorf("%d events but %d delivery lists: %w", len(events), len(deliveries), webhook.ErrInvalid)
	}
	existing, err := s.existingEvents(ctx, tx, events)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if err := webhook.ClashesOf(events, existing); err != nil {
			return nil, err
		}
	}
	// The new events, then their deliveries.
	fresh := make([]*webhook.StoredEvent, 0, len(events))
	var ds []*webhook.Delivery
	for i, ev := range events {
		if existing == nil || existing[i] == nil {
			fresh = append(fresh, ev)
			ds = append(ds, deliveries[i]...)
		}
	}
	if s.dialect == Postgres {
		n, err := s.insertEventsPG(ctx, tx, fresh)
		if err != nil {
			return nil, err
		}
		if n != int64(len(fresh)) {
			return nil, errRaced
		}
		if len(ds) > 0 {
			if err := s.insertDeliveriesPG(ctx, tx, ds); err != nil {
				return nil, err
			}
			if err := s.signal(ctx, tx); err != nil {
				return nil, err
			}
		}
		return existing, nil
	}
	per := s.dia.maxParams() / eventCols
	for start := 0; start < len(fresh); start += per {
		chunk := fresh[start:min(start+per, len(fresh))]
		args := make([]any, 0, len(chunk)*eventCols)
		for _, ev := range chunk {
			body := ev.Body
			if body == nil {
				body = []byte{}
			}
			md, err := encodeMetadata(ev.Metadata)
			if err != nil {
				return nil, err
			}
			args = append(args, ev.ID, ev.Type, ev.TenantID, clampNanos(ev.CreatedAt), body, md)
		}
		n, err := tx.Exec(ctx, s.rowsSQL(`INSERT INTO {p}events (id, type, tenant_id, created_at, body, metadata) VALUES `,
			len(chunk), eventCols, ` ON CONFLICT (id) DO NOTHING`), args...)
		if err != nil {
			return nil, err
		}
		if n != int64(len(chunk)) {
			return nil, errRaced
		}
	}
	per = s.dia.maxParams() / deliveryCols
	for start := 0; start < len(ds); start += per {
		chunk := ds[start:min(start+per, len(ds))]
		args := make([]any, 0, len(chunk)*deliveryCols)
		for _, d := range chunk {
			state := d.State
			if state == "" {
				state = webhook.StatePending
			}
			next := clampNanos(d.NextAttemptAt)
			args = append(args, d.ID, d.EventID, d.EventType, d.TenantID, d.EndpointID, string(state), d.Attempts,
				next, next, d.LastError, clampNanos(d.CreatedAt), clampNanos(d.UpdatedAt))
		}
		if _, err := tx.Exec(ctx, s.rowsSQL(`INSERT INTO {p}deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
			next_attempt_at, due_at, last_error, created_at, updated_at) VALUES `, len(chunk), deliveryCols, ""), args...); err != nil {
			return nil, err
		}
	}
	if len(ds) > 0 {
		if err := s.signal(ctx, tx); err != nil {
			return nil, err
		}
	}
	return existing, nil
}

// existingEvents reads the events stored under the batch's IDs, as tx
// sees them: existing[i] for events[i], nil when there is none (and a nil
// slice when none exists). The rows come back as one JSON array, since a
// webhook.Tx reads one row.
func (s *Store) existingEvents(ctx context.Context, tx webhook.Tx, events []*webhook.StoredEvent) ([]*webhook.StoredEvent, error) {
	agg := `SELECT ` + s.dia.jsonArrays(`id, type, tenant_id, created_at`) + ` FROM {p}events WHERE id IN (`
	var found map[string]*webhook.StoredEvent
	per := s.dia.maxParams()
	for start := 0; start < len(events); start += per {
		chunk := events[start:min(start+per, len(events))]
		args := make([]any, len(chunk))
		for i, ev := range chunk {
			if ev == nil || ev.ID == "" {
				return nil, fmt.Errorf("event %d without an ID: %w", start+i, webhook.ErrInvalid)
			}
			args[i] = ev.ID
		}
		var text string
		if err := tx.QueryRow(ctx, s.rewrite(agg+placeholders(len(chunk))+`)`), args...).Scan(&text); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(text)))
		dec.UseNumber()
		var rows [][]any
		if err := dec.Decode(&rows); err != nil {
			return nil, fmt.Errorf("reading the stored events: %w", err)
		}
		for _, r := range rows {
			ev, err := jsonEventRow(r)
			if err != nil {
				return nil, err
			}
			if found == nil {
				found = make(map[string]*webhook.StoredEvent)
			}
			found[ev.ID] = ev
		}
	}
	if found == nil {
		return nil, nil
	}
	existing := make([]*webhook.StoredEvent, len(events))
	for i, ev := range events {
		existing[i] = found[ev.ID]
	}
	return existing, nil
}

// jsonEventRow reads [id, type, tenant_id, created_at].
func jsonEventRow(r []any) (*webhook.StoredEvent, error) {
	if len(r) == 4 {
		id, ok1 := r[0].(string)
		typ, ok2 := r[1].(string)
		tenant, ok3 := r[2].(string)
		num, ok4 := r[3].(json.Number)
		if ok1 && ok2 && ok3 && ok4 {
			created, err := num.Int64()
			if err == nil {
				return &webhook.StoredEvent{ID: id, Type: typ, TenantID: tenant, CreatedAt: time.Unix(0, created).UTC()}, nil
			}
		}
	}
	return nil, fmt.Errorf("reading the stored events: unexpected row %v", r)
}

// rowsSQL is head, rows groups of cols placeholders, then tail, in the
// dialect's form. Its text depends on rows, so it bypasses the cache of q.
func (s *Store) rowsSQL(head string, rows, cols int, tail string) string {
	var b strings.Builder
	group := "(" + placeholders(cols) + ")"
	b.Grow(len(head) + rows*(len(group)+2) + len(tail))
	b.WriteString(head)
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group)
	}
	b.WriteString(tail)
	return s.rewrite(b.String())
}
