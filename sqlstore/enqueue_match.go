package sqlstore

// EnqueueMatching: Publish in one statement on PostgreSQL, the endpoints
// picked by the database while it writes.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	queries sync.Map     // int → string, the statement for that many events
	notify  afterNotify  // the NOTIFY after autocommitted statements
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
// tenant's enabled, active endpoints whose events match (version 7 UUIDs:
// the statement's clock in milliseconds, then gen_random_uuid's random
// bits, as internal/uid makes them in Go). One round trip, where Publish otherwise takes two
// (ListEndpoints, then Enqueue). If it wrote a delivery, listeners are
// notified just after the commit, not in the statement (see afterNotify).
// On SQLite it is one write transaction of the Store's writer
// (sqlite_match.go). On PostgreSQL before 13 it returns
// webhook.ErrNotSupported and Publish takes that path.
//
// An endpoint whose stored events are not a JSON array (edited by hand)
// fails the statement; the error then names the endpoint, as
// ListEndpoints does.
func (s *Store) EnqueueMatching(ctx context.Context, ev *webhook.StoredEvent, now time.Time) (int, error) {
	if s.dialect == SQLite {
		return s.liteEnqueueMatching(ctx, ev, now)
	}
	if err := s.canMatch(ctx, s.dbRow); err != nil {
		return 0, err
	}
	n, inserted, err := s.enqueueMatching(ctx, s.dbRow, false, ev, now)
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
// event as tx sees it, without spoiling tx. On SQLite it runs the
// statements of EnqueueMatching's transaction in tx. On PostgreSQL before
// 13 it returns webhook.ErrNotSupported, having done nothing in tx but
// read the server's version (once per Store).
func (s *Store) EnqueueMatchingInTx(ctx context.Context, tx webhook.Tx, ev *webhook.StoredEvent, now time.Time) (int, error) {
	if tx == nil {
		return 0, fmt.Errorf("sqlstore: enqueue: tx is nil")
	}
	if s.dialect == SQLite {
		return s.liteEnqueueMatchingInTx(ctx, tx, ev, now)
	}
	if err := s.canMatch(ctx, tx.QueryRow); err != nil {
		return 0, err
	}
	n, inserted, err := s.enqueueMatching(ctx, tx.QueryRow, true, ev, now)
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
// webhook.ErrNotSupported if not: PostgreSQL before 13 (no
// gen_random_uuid). SQLite does not ask (sqlite_match.go). The server's version is read once, through row.
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

// enqueueMatching runs the statement for one event: it returns how many
// deliveries it wrote and whether the event was inserted (false: its ID
// exists). In the application's transaction (inTx) the statement queues
// the NOTIFY, sent at commit; autocommitted, it is sent after
// (notifyAfterCommit).
func (s *Store) enqueueMatching(ctx context.Context, row queryRowFunc, inTx bool, ev *webhook.StoredEvent, now time.Time) (n int, inserted bool, err error) {
	args, err := s.matchArgs([]*webhook.StoredEvent{ev}, now)
	if err != nil {
		return 0, false, err
	}
	var ord, deliveries, notified int64
	if err := row(ctx, s.matchQuery(1, inTx), args...).Scan(&ord, &inserted, &deliveries, &notified); err != nil {
		return 0, false, err
	}
	if !inTx && deliveries > 0 {
		s.notifyAfterCommit()
	}
	return int(deliveries), inserted, nil
}

// matchArgs are the parameters of matchQuery(len(evs)).
func (s *Store) matchArgs(evs []*webhook.StoredEvent, now time.Time) ([]any, error) {
	args := make([]any, 0, 6*len(evs)+6)
	for _, ev := range evs {
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
	at := clampNanos(now)
	due := at
	if len(evs) == 1 {
		due = clampNanos(evs[0].DueAt(now))
	}
	return append(args, string(webhook.StatePending), due, due, at, at, s.channel), nil
}

// matchQuery is the statement of n events (EnqueueMatching sends one), in
// the Store's form. It
// inserts the events (ON CONFLICT DO NOTHING), then a delivery for each
// inserted event and each enabled, active endpoint of its tenant whose
// events match its type, then, with notify, notifies listeners once if it
// wrote any delivery; it returns, per event in order, its position, whether it was
// inserted and how many deliveries it got.
//
// An endpoint's events are a JSON array of patterns, empty (or 'null', as
// ListEndpoints reads it) to match every type; a pattern matches as in
// webhook.MatchEvent: equal to the type, or ending in * with the type
// starting with what precedes the *.
func (s *Store) matchQuery(n int, notify bool) string {
	key := n
	if notify {
		key = -n
	}
	if q, ok := s.match.queries.Load(key); ok {
		return q.(string)
	}
	var sb strings.Builder
	sb.WriteString(`WITH v (ord, id, type, tenant_id, created_at, body, metadata) AS (VALUES `)
	for i := 1; i <= n; i++ {
		if i > 1 {
			sb.WriteString(", ")
		}
		sb.WriteString("(" + strconv.Itoa(i) + ", ?::text, ?::text, ?::text, ?::bigint, ?::bytea, ?::text)")
	}
	sb.WriteString(`),
	e AS (INSERT INTO {p}events (id, type, tenant_id, created_at, body, metadata)
		SELECT id, type, tenant_id, created_at, body, metadata FROM v ORDER BY ord
		ON CONFLICT (id) DO NOTHING RETURNING id, type, tenant_id),
	d AS (INSERT INTO {p}deliveries (id, event_id, event_type, tenant_id, endpoint_id, state, attempts,
			next_attempt_at, due_at, last_error, created_at, updated_at)
		SELECT substr(ts.h, 1, 8) || '-' || substr(ts.h, 9, 4) || '-7' || substr(gen_random_uuid()::text, 16),
			e.id, e.type, e.tenant_id, ep.id, ?::text, 0, ?::bigint, ?::bigint, '', ?::bigint, ?::bigint
		FROM e JOIN {p}endpoints ep ON ep.tenant_id = e.tenant_id
			CROSS JOIN (SELECT lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') AS h) ts
		WHERE ep.disabled = 0 AND ep.inactive = 0
			AND CASE WHEN ep.events IN ('[]', 'null') THEN true
				ELSE EXISTS (SELECT 1 FROM jsonb_array_elements_text(ep.events::jsonb) p(pat)
					WHERE p.pat = e.type OR (right(p.pat, 1) = '*' AND starts_with(e.type, left(p.pat, -1)))) END
		ORDER BY ep.created_at, ep.seq
		RETURNING event_id),
	nt AS (SELECT `)
	if notify {
		sb.WriteString(`pg_notify(?, '')`)
	} else {
		sb.WriteString(`length(?::text)`) // the same parameters
	}
	sb.WriteString(` FROM (SELECT 1 FROM d LIMIT 1) one)
	SELECT v.ord, e.id IS NOT NULL, (SELECT count(*) FROM d WHERE d.event_id = v.id), (SELECT count(*) FROM nt)
	FROM v LEFT JOIN e ON e.id = v.id ORDER BY v.ord`)
	q := s.rewrite(sb.String())
	s.match.queries.Store(key, q)
	return q
}
