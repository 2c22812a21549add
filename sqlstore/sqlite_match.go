package sqlstore

// EnqueueMatching on SQLite: Publish in one write transaction of the
// Store's writer, the endpoints read under its write lock (see
// enqueue_match.go for PostgreSQL's one statement).

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/internal/uid"
)

// liteMatchSQL reads the tenant's enabled, active endpoints (ID and
// stored events) in their order (created_at, seq) as one row, a JSON array
// of [id, events] pairs, so that it runs through a webhook.Tx's QueryRow.
const liteMatchSQL = `SELECT json_group_array(json_array(id, events)) FROM (SELECT id, events FROM {p}endpoints
	WHERE tenant_id = ? AND disabled = 0 AND inactive = 0 ORDER BY created_at, seq)`

// liteEnqueueMatching is EnqueueMatching on SQLite: one write transaction
// of the Store's writer inserts the event (ON CONFLICT DO NOTHING), then,
// if it was inserted, reads the tenant's endpoints, inserts a delivery for
// each that matches and bumps the change counter if it wrote any. The
// endpoints are read on the writer's connection, with its prepared
// statements and current page cache, inside the transaction that writes:
// Publish's separate read of them (ListEndpoints), with its connection
// handling and full decoding of every endpoint, is gone.
func (s *Store) liteEnqueueMatching(ctx context.Context, ev *webhook.StoredEvent, now time.Time) (int, error) {
	var n int
	var dup error
	err := s.inTx(ctx, func(tx querier) error {
		var inserted bool
		var err error
		wtx := webhook.WrapSQLTx(tx)
		if n, inserted, err = s.liteMatch(ctx, wtx, ev, now); err == nil && !inserted {
			dup = s.duplicate(ctx, wtx, ev.ID)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: enqueue: %w", err)
	}
	if dup != nil {
		return 0, dup
	}
	return n, nil
}

// liteEnqueueMatchingInTx is EnqueueMatchingInTx on SQLite: liteMatch in
// the application's transaction.
func (s *Store) liteEnqueueMatchingInTx(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, now time.Time) (int, error) {
	n, inserted, err := s.liteMatch(ctx, tx, ev, now)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: enqueue: %w", err)
	}
	if !inserted {
		return 0, s.duplicate(ctx, tx, ev.ID)
	}
	return n, nil
}

// liteMatch runs the statements of liteEnqueueMatching in tx, the writer's
// transaction or the application's, and returns how many deliveries it
// wrote and whether the event was inserted (false: its ID exists, and
// nothing was written). The event's INSERT comes first, so in an
// application's deferred transaction the write lock is taken before the
// endpoints are read.
func (s *Store) liteMatch(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, now time.Time) (int, bool, error) {
	inserted, err := s.insertEvent(ctx, tx, ev)
	if err != nil || !inserted {
		return 0, false, err
	}
	deliveries, err := s.liteMatching(ctx, tx, ev, now)
	if err != nil || len(deliveries) == 0 {
		return 0, true, err
	}
	if err := s.insertDeliveries(ctx, tx, deliveries); err != nil {
		return 0, true, err
	}
	if err := s.signal(ctx, tx); err != nil {
		return 0, true, err
	}
	return len(deliveries), true, nil
}

// liteMatching reads the endpoints of ev's tenant in tx and returns a
// pending delivery for each that is neither disabled nor inactive and
// whose events match ev's type, made as Publish's Go path makes them. An
// endpoint whose stored events do not decode fails it with a
// *corruptEndpointError naming the endpoint, as ListEndpoints does.
func (s *Store) liteMatching(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, now time.Time) ([]*webhook.Delivery, error) {
	var list string
	if err := tx.QueryRow(ctx, s.q(liteMatchSQL), ev.TenantID).Scan(&list); err != nil {
		return nil, err
	}
	var eps [][2]string
	if err := json.Unmarshal([]byte(list), &eps); err != nil {
		return nil, fmt.Errorf("reading the endpoints: %w", err)
	}
	var out []*webhook.Delivery
	for _, ep := range eps {
		var events []string
		if err := json.Unmarshal([]byte(ep[1]), &events); err != nil {
			return nil, &corruptEndpointError{id: ep[0], column: "events", err: err}
		}
		if !webhook.MatchEvent(events, ev.Type) {
			continue
		}
		out = append(out, &webhook.Delivery{
			ID:            uid.New(),
			EventID:       ev.ID,
			EventType:     ev.Type,
			TenantID:      ev.TenantID,
			EndpointID:    ep[0],
			State:         webhook.StatePending,
			NextAttemptAt: ev.DueAt(now),
			CreatedAt:     now,
			UpdatedAt:     now,
		})
	}
	return out, nil
}
