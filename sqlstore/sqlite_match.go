package sqlstore

// EnqueueMatching on SQLite: Publish in one write transaction of the
// writer, the endpoints picked by the database while it writes (see
// enqueue_match.go for PostgreSQL's one statement).

import (
	"context"
	"errors"
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
)

// liteMatchSQL inserts a pending delivery for each enabled, active
// endpoint of a tenant whose events match a type, in the endpoints' order
// (created_at, seq), as Publish's Go path would. The parameters are the
// first 13 characters of the IDs (the time, liteIDPrefix), the event's ID,
// type and tenant, the due time and the creation time.
//
// Each ID is a version 7 UUID like internal/uid's: the prefix, then 74
// random bits from randomblob, drawn per row. An endpoint's events are a
// JSON array of patterns (empty to match every type; 'null' too, as
// ListEndpoints reads it); any other value, or text that is not JSON,
// fails the statement, as ListEndpoints would fail Publish for it.
const liteMatchSQL = `INSERT INTO {p}deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
		next_attempt_at, due_at, last_error, created_at, updated_at)
	SELECT ?1 || '-7' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1)
			|| substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
		?2, ?3, ?4, ep.id, 'pending', 0, ?5, ?5, '', ?6, ?6
	FROM {p}endpoints ep
	WHERE ep.tenant_id = ?4 AND ep.disabled = 0 AND ep.inactive = 0
		AND CASE json_type(ep.events)
			WHEN 'array' THEN json_array_length(ep.events) = 0 OR EXISTS (SELECT 1 FROM json_each(ep.events) p
				WHERE p.value = ?3 OR (substr(p.value, -1) = '*'
					AND substr(?3, 1, length(p.value) - 1) = substr(p.value, 1, length(p.value) - 1)))
			WHEN 'null' THEN 1
			ELSE json(ep.events || ']') END
	ORDER BY ep.created_at, ep.seq`

// liteIDPrefix is the first 13 characters of a version 7 UUID made at t:
// its Unix time in milliseconds as 12 hex digits, a dash after the
// eighth.
func liteIDPrefix(t time.Time) string {
	const hexDigits = "0123456789abcdef"
	ms := uint64(t.UnixMilli())
	var b [13]byte
	j := 12
	for i := 0; i < 12; i++ {
		if j == 8 {
			b[j] = '-'
			j--
		}
		b[j] = hexDigits[ms&0xf]
		ms >>= 4
		j--
	}
	return string(b[:])
}

// liteEnqueueMatching is EnqueueMatching on SQLite: one write transaction
// of the Store's writer inserts the event (ON CONFLICT DO NOTHING), then,
// if it was inserted, the matching deliveries with one INSERT … SELECT,
// and bumps the change counter if it wrote any. The endpoints are read
// under the write lock, on the writer's connection with its prepared
// statements: Publish's separate read of them (ListEndpoints) is gone.
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
		if ctx.Err() == nil {
			// A corrupt endpoint row: say which, as ListEndpoints does.
			var corrupt *corruptEndpointError
			if _, lerr := s.ListEndpoints(ctx, ev.TenantID); errors.As(lerr, &corrupt) {
				return 0, lerr
			}
		}
		return 0, fmt.Errorf("sqlstore: enqueue: %w", err)
	}
	if dup != nil {
		return 0, dup
	}
	return n, nil
}

// liteMatch runs the statements of liteEnqueueMatching in tx, the writer's
// transaction or the application's, and returns how many deliveries it
// wrote and whether the event was inserted (false: its ID exists). The
// event's INSERT comes first, so in an application's deferred
// transaction the write lock is taken before the endpoints are read.
func (s *Store) liteMatch(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, now time.Time) (int, bool, error) {
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	md, err := encodeMetadata(ev.Metadata)
	if err != nil {
		return 0, false, err
	}
	n, err := tx.Exec(ctx, s.q(`INSERT INTO {p}events (id, type, tenant_id, created_at, body, metadata)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`), ev.ID, ev.Type, ev.TenantID, clampNanos(ev.CreatedAt), body, md)
	if err != nil || n == 0 {
		return 0, false, err
	}
	at := clampNanos(now)
	due := clampNanos(ev.DueAt(now))
	n, err = tx.Exec(ctx, s.q(liteMatchSQL), liteIDPrefix(time.Now()), ev.ID, ev.Type, ev.TenantID, due, at)
	if err != nil {
		return 0, true, err
	}
	if n > 0 {
		if err := s.signal(ctx, tx); err != nil {
			return 0, true, err
		}
	}
	return int(n), true, nil
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
