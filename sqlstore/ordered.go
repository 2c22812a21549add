package sqlstore

// Ordered delivery per endpoint (issue 11): Claim's rule for endpoints
// with Ordered set, and Delivery.BlockedBy.

import (
	"context"
	"database/sql"

	webhook "github.com/outhook/webhook"
)

var _ webhook.OrderedStore = (*Store)(nil)

// OrdersDeliveries implements webhook.OrderedStore: Claim honours
// Endpoint.Ordered.
//
// Publish order is the order the deliveries were inserted in: on
// PostgreSQL the deliveries.seq column, which a sequence fills on insert
// (rows stored before schema version 5 that were ended then have none and
// sort first, by created_at and ID, should Requeue queue them again); on
// SQLite the rowid, which the one writer hands out in increasing order. On
// PostgreSQL two publishes whose transactions overlap may commit in the
// other order than their sequence numbers: they were concurrent, and
// either order is publish order. One that committed before the other
// began always comes first.
//
// Claim takes a due delivery of an Ordered endpoint only when it is the
// endpoint's earliest pending delivery and the delivery Claim last leased
// for the endpoint (endpoints.ordered_lease) is not pending under a live
// lease. On PostgreSQL Claim locks the endpoint row (FOR NO KEY UPDATE
// SKIP LOCKED) for that check and for recording the lease, so two
// concurrent Claims never both take a delivery of one Ordered endpoint:
// the second skips the endpoint until the first has committed, and then
// sees the lease. On SQLite the write lock serialises Claims.
func (s *Store) OrdersDeliveries() bool { return true }

// orderedCand is a due delivery of an Ordered endpoint found by Claim's
// scan: the first of its endpoint in due order.
type orderedCand struct{ id, endpoint string }

// pickOrdered returns, for the endpoints of cands in their order and at
// most room of them, the delivery Claim may lease, and records each as
// its endpoint's ordered_lease: the endpoint's earliest pending delivery
// in publish order (which need not be the candidate, the endpoint's first
// due one) when it is due and the endpoint's ordered_lease is not pending
// under a lease that lasts past now. On PostgreSQL the endpoint rows are
// locked (skipping those another transaction holds) until the claim
// commits.
func (s *Store) pickOrdered(ctx context.Context, tx querier, cands []orderedCand, now int64, room int) ([]orderedCand, error) {
	if len(cands) == 0 || room <= 0 {
		return nil, nil
	}
	eps := make([]string, len(cands))
	for i, c := range cands {
		eps[i] = c.endpoint
	}
	if s.dia.locksRows() {
		// First lock the endpoint rows, skipping those another Claim (or a
		// completion) holds; the next statement's snapshot then sees what
		// every earlier holder committed, its lease included.
		var locked []string
		if err := s.queryIn(ctx, tx, `SELECT id FROM {p}endpoints WHERE id IN (%s) AND ordered = 1 FOR NO KEY UPDATE SKIP LOCKED`, eps,
			func(r *sql.Rows) error {
				var id string
				err := r.Scan(&id)
				locked = append(locked, id)
				return err
			}); err != nil {
			return nil, err
		}
		if len(locked) == 0 {
			return nil, nil
		}
		eps = locked
	}
	in, list := s.inList(eps)
	// The head may be a row the scan did not lock: lock it now, and leave
	// the endpoint for later if another Claim's scan holds it.
	lock := s.dia.forUpdateSkipLocked("h")
	rows, err := tx.QueryContext(ctx, s.q(`SELECT e.id, h.id, h.due_at, h.leased_until,
			EXISTS (SELECT 1 FROM {p}deliveries m WHERE m.id = e.ordered_lease AND m.state = 'pending'
				AND m.leased_until > ?)
		FROM {p}endpoints e
		JOIN {p}deliveries h ON h.id = (SELECT d.id FROM {p}deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending'
				ORDER BY `+s.dia.headOrder()+` LIMIT 1)
		WHERE e.id IN (`+in+`) AND e.ordered = 1`+lock), append([]any{now}, list...)...)
	if err != nil {
		return nil, err
	}
	head := map[string]string{}
	for rows.Next() {
		var ep string
		var first sql.NullString
		var due, leasedUntil sql.NullInt64
		var busy bool
		if err := rows.Scan(&ep, &first, &due, &leasedUntil, &busy); err != nil {
			rows.Close()
			return nil, err
		}
		// The head is claimable when it is due and not under a live lease
		// (its own, or one kept after its claim left it out).
		if !busy && first.Valid && due.Int64 <= now && (!leasedUntil.Valid || leasedUntil.Int64 <= now) {
			head[ep] = first.String
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []orderedCand
	for _, c := range cands {
		if len(out) == room {
			break
		}
		id := head[c.endpoint]
		if id == "" {
			continue // the earliest is not due, or another is in flight
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}endpoints SET ordered_lease = ? WHERE id = ?`), id, c.endpoint); err != nil {
			return nil, err
		}
		out = append(out, orderedCand{id: id, endpoint: c.endpoint})
	}
	return out, nil
}

// fillBlockedBy sets BlockedBy on the pending deliveries in ds whose
// endpoint is Ordered and that wait for another delivery of it: the
// endpoint's ordered_lease while that is pending and leased (a Store does
// not read the clock, so a lease counts until it is completed or taken
// over), else its earliest pending delivery.
func (s *Store) fillBlockedBy(ctx context.Context, db querier, ds []*webhook.Delivery) error {
	var eps []string
	seen := map[string]bool{}
	for _, d := range ds {
		if d.State == webhook.StatePending && !seen[d.EndpointID] {
			seen[d.EndpointID] = true
			eps = append(eps, d.EndpointID)
		}
	}
	if len(eps) == 0 {
		return nil
	}
	in, list := s.inList(eps)
	rows, err := db.QueryContext(ctx, s.q(`SELECT e.id,
			(SELECT m.id FROM {p}deliveries m WHERE m.id = e.ordered_lease AND m.state = 'pending'
				AND m.claim_token IS NOT NULL),
			(SELECT d.id FROM {p}deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending'
				ORDER BY `+s.dia.headOrder()+` LIMIT 1)
		FROM {p}endpoints e WHERE e.id IN (`+in+`) AND e.ordered = 1`), list...)
	if err != nil {
		return err
	}
	defer rows.Close()
	first := map[string]string{}
	inFlight := map[string]string{}
	for rows.Next() {
		var ep string
		var busy, head sql.NullString
		if err := rows.Scan(&ep, &busy, &head); err != nil {
			return err
		}
		first[ep], inFlight[ep] = head.String, busy.String
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range ds {
		if d.State != webhook.StatePending {
			continue
		}
		by := inFlight[d.EndpointID]
		if by == "" {
			by = first[d.EndpointID]
		}
		if by != d.ID {
			d.BlockedBy = by
		}
	}
	return nil
}
