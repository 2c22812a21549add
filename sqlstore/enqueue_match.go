package sqlstore

// EnqueueMatching: Publish in one statement on PostgreSQL, the endpoints
// picked by the database while it writes.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	webhook "github.com/outhook/webhook"
)

var (
	_ webhook.MatchEnqueuer     = (*Store)(nil)
	_ webhook.InTxMatchEnqueuer = (*Store)(nil)
)

// matchSupport is what EnqueueMatching learns once per Store: whether the
// server has gen_random_uuid (PostgreSQL 13), and its statement texts by
// the number of patterns matched.
type matchSupport struct {
	state   atomic.Int32 // matchUnknown, matchYes or matchNo
	queries sync.Map     // int → string, the statement for that many patterns
}

const (
	matchUnknown = iota
	matchYes
	matchNo
)

// pgMatchMinVersion is server_version_num of PostgreSQL 13, the first with
// gen_random_uuid() built in.
const pgMatchMinVersion = 130000

// EnqueueMatching implements webhook.MatchEnqueuer on PostgreSQL 13 or
// newer: one autocommitted statement inserts the event (ON CONFLICT DO
// NOTHING), then, if it was inserted, a pending delivery for each of the
// tenant's enabled, active endpoints whose events match (IDs from
// gen_random_uuid), then notifies listeners if any delivery was written.
// One round trip, where Publish otherwise takes two (ListEndpoints, then
// Enqueue). On SQLite and older PostgreSQL it returns
// webhook.ErrNotSupported and Publish takes that path.
//
// An endpoint whose stored events are not a JSON array (edited by hand)
// fails the statement; the error then names the endpoint, as
// ListEndpoints does.
func (s *Store) EnqueueMatching(ctx context.Context, ev *webhook.StoredEvent, now time.Time) (int, error) {
	if err := s.canMatch(ctx, s.dbRow); err != nil {
		return 0, err
	}
	n, inserted, err := s.enqueueMatching(ctx, s.dbRow, ev, now)
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
	if !inserted {
		prev, err := s.GetEvent(ctx, ev.ID)
		if errors.Is(err, webhook.ErrNotFound) {
			return 0, webhook.ErrDuplicateEvent // pruned meanwhile
		}
		if err != nil {
			return 0, err
		}
		prev.Body, prev.Metadata = nil, nil
		return 0, &webhook.DuplicateEventError{Existing: prev}
	}
	return n, nil
}

// EnqueueMatchingInTx implements webhook.InTxMatchEnqueuer: the statement
// of EnqueueMatching inside tx, the application's transaction, so the
// endpoints are read as tx sees them and the NOTIFY goes at commit. A
// duplicate event ID returns a *webhook.DuplicateEventError holding the
// event as tx sees it, without spoiling tx. On SQLite and older
// PostgreSQL it returns webhook.ErrNotSupported, having done nothing in
// tx but read the server's version (once per Store).
func (s *Store) EnqueueMatchingInTx(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, now time.Time) (int, error) {
	if tx == nil {
		return 0, fmt.Errorf("sqlstore: enqueue: tx is nil")
	}
	if err := s.canMatch(ctx, tx.QueryRow); err != nil {
		return 0, err
	}
	n, inserted, err := s.enqueueMatching(ctx, tx.QueryRow, ev, now)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: enqueue: %w", err)
	}
	if !inserted {
		return 0, s.duplicate(ctx, tx, ev.ID)
	}
	return n, nil
}

// queryRowFunc runs a one-row query on the Store's database or in a
// transaction.
type queryRowFunc func(ctx context.Context, query string, args ...any) webhook.TxRow

func (s *Store) dbRow(ctx context.Context, query string, args ...any) webhook.TxRow {
	return s.db.QueryRowContext(ctx, query, args...)
}

// canMatch returns nil if EnqueueMatching can run here,
// webhook.ErrNotSupported if not: SQLite, or PostgreSQL before 13 (no
// gen_random_uuid). The server's version is read once, through row.
func (s *Store) canMatch(ctx context.Context, row queryRowFunc) error {
	if s.dialect != Postgres {
		return webhook.ErrNotSupported
	}
	switch s.match.state.Load() {
	case matchYes:
		return nil
	case matchNo:
		return webhook.ErrNotSupported
	}
	var v int
	if err := row(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&v); err != nil {
		return fmt.Errorf("sqlstore: enqueue: reading the server version: %w", err)
	}
	if v < pgMatchMinVersion {
		s.match.state.Store(matchNo)
		return webhook.ErrNotSupported
	}
	s.match.state.Store(matchYes)
	return nil
}

// enqueueMatching runs the statement: the event, its deliveries to the
// matching endpoints, the NOTIFY. It returns how many deliveries it wrote
// and whether the event was inserted (false: its ID exists).
func (s *Store) enqueueMatching(ctx context.Context, row queryRowFunc, ev *webhook.StoredEvent, now time.Time) (n int, inserted bool, err error) {
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	md, err := encodeMetadata(ev.Metadata)
	if err != nil {
		return 0, false, err
	}
	patterns := webhook.EventPatterns(ev.Type)
	at := clampNanos(now)
	args := make([]any, 0, 13+len(patterns))
	args = append(args, ev.ID, ev.Type, ev.TenantID, clampNanos(ev.CreatedAt), body, md,
		string(webhook.StatePending), at, at, at, at, ev.TenantID)
	for _, p := range patterns {
		args = append(args, p)
	}
	args = append(args, s.channel)
	var events, deliveries int64
	if err := row(ctx, s.matchQuery(len(patterns)), args...).Scan(&events, &deliveries, new(int64)); err != nil {
		return 0, false, err
	}
	return int(deliveries), events > 0, nil
}

// matchQuery is the statement of enqueueMatching for n patterns, in the
// Store's form.
func (s *Store) matchQuery(n int) string {
	if q, ok := s.match.queries.Load(n); ok {
		return q.(string)
	}
	var sb strings.Builder
	// The event's columns, then the deliveries' (state, next_attempt_at,
	// due_at, created_at, updated_at), the tenant, the patterns, the
	// channel. An endpoint's events are a JSON array of patterns; empty
	// matches every type ('null' too, as ListEndpoints reads it).
	sb.WriteString(`WITH e AS (INSERT INTO {p}events (id, type, tenant_id, created_at, body, metadata)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id, type, tenant_id),
	d AS (INSERT INTO {p}deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
			next_attempt_at, due_at, last_error, created_at, updated_at)
		SELECT gen_random_uuid()::text, e.id, e.type, e.tenant_id, ep.id, ?::text, 0, ?::bigint, ?::bigint, '', ?::bigint, ?::bigint
		FROM e, {p}endpoints ep
		WHERE ep.tenant_id = ?::text AND ep.disabled = 0 AND ep.inactive = 0
			AND CASE WHEN ep.events IN ('[]', 'null') THEN true
				ELSE EXISTS (SELECT 1 FROM jsonb_array_elements_text(ep.events::jsonb) p(v) WHERE p.v IN (`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("?::text")
	}
	sb.WriteString(`)) END
		ORDER BY ep.created_at, ep.seq
		RETURNING 1)
	SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM d),
		(SELECT count(*) FROM (SELECT pg_notify(?, '') FROM (SELECT 1 FROM d LIMIT 1) one) n)`)
	q := s.rewrite(sb.String())
	s.match.queries.Store(n, q)
	return q
}
