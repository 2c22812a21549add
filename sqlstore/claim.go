package sqlstore

// Claim: leasing due deliveries.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
)

// claimRounds bounds how often one Claim scans again after skipping rows
// for the per-endpoint cap or for a disabled endpoint.
const claimRounds = 8

// Claim implements webhook.Store. On PostgreSQL the due rows are read in
// due order through a partial index with FOR UPDATE SKIP LOCKED, so
// concurrent Claims in several processes take disjoint rows without
// waiting for each other; the chosen rows get a lease token and
// leased_until at the lease's end, which is when another Claim may take
// them again if no Complete came. leased_until is in no index, so leasing
// a row rewrites none of its index entries (on PostgreSQL the update is
// usually made in place). On SQLite the transaction holds the write lock.
// A rate-limited endpoint's deliveries are handed out only with a token of
// its bucket (see SharesRateLimits). On PostgreSQL the deliveries of
// endpoints that need nothing but the per-endpoint cap are first claimed
// in one statement (claimFast); the general way above runs only when the
// scan met others.
//
// The deliveries of an endpoint whose secret does not decrypt, or whose
// stored events or headers do not decode (JSON edited by hand), are left
// out of the result rather than failing the call: they stay leased until
// the lease ends (so come up again then), their LastError says why, and
// Options.Logger hears of it. The deliveries of an endpoint deleted while
// they were being claimed are left out too: DeleteEndpoint deletes them,
// and one it missed stays leased until the lease ends, when the next
// Claim ends it (its endpoint is gone). When the fast claim's read of
// what it leased fails, it gives those leases back (a Release) before it
// returns the error, so they are due again at once.
func (s *Store) Claim(ctx context.Context, p webhook.ClaimParams) ([]*webhook.Claim, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	var fast []*webhook.Claim
	if s.dialect == Postgres {
		var done bool
		var err error
		fast, p, done, err = s.claimFast(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: claim: %w", err)
		}
		if done {
			return fast, nil
		}
	}
	var claims []*webhook.Claim
	run := func(tx querier) error {
		var err error
		claims, err = s.claim(ctx, tx, p)
		return err
	}
	if err := s.dia.claimTx(ctx, s, run); err != nil {
		if len(fast) > 0 {
			// The fast claims hold their leases: hand them out rather than
			// leave them leased and unsent until their leases end.
			s.opts.Logger.WarnContext(ctx, "sqlstore: claim: the second round failed; handing out the first", "err", err)
			return fast, nil
		}
		return nil, fmt.Errorf("sqlstore: claim: %w", err)
	}
	return append(fast, claims...), nil
}

func (s *Store) claim(ctx context.Context, tx querier, p webhook.ClaimParams) ([]*webhook.Claim, error) {
	now := clampNanos(p.Now)
	// Every lease gets its own token: this Claim's random part and the
	// delivery ID.
	token := newID() + "."
	taken := map[string]int{}
	var excluded []string
	excludedSet := map[string]bool{}
	exclude := func(ep string) {
		if !excludedSet[ep] {
			excludedSet[ep] = true
			excluded = append(excluded, ep)
		}
	}
	if p.MaxPerEndpoint > 0 {
		for ep, n := range p.InFlight {
			if n >= p.MaxPerEndpoint {
				exclude(ep)
			}
		}
	}
	lock := s.dia.forUpdateSkipLocked("d")
	var picked []string
	notBefore := map[string]time.Time{} // SharedRateStore: tokens due later
	l := newLeased()
	for round := 0; round < claimRounds && len(picked) < p.Limit; round++ {
		want := p.Limit - len(picked)
		scan := want
		if p.MaxPerEndpoint > 0 {
			scan = min(want*2+8, 1000)
		}
		query := `SELECT d.id, d.endpoint_id, COALESCE(e.disabled, 1), COALESCE(e.inactive, 0), COALESCE(e.ordered, 0),
			COALESCE(e.rate_per_second, 0), COALESCE(e.rate_burst, 0) FROM {p}deliveries d
			LEFT JOIN {p}endpoints e ON e.id = d.endpoint_id
			WHERE d.state = 'pending' AND d.due_at <= ? AND (d.leased_until IS NULL OR d.leased_until <= ?)`
		args := []any{now, now}
		if len(excluded) > 0 {
			in, list := s.inList(excluded)
			query += ` AND d.endpoint_id NOT IN (` + in + `)`
			args = append(args, list...)
		}
		query += ` ORDER BY d.due_at, d.id LIMIT ?` + lock
		args = append(args, scan)
		rows, err := tx.QueryContext(ctx, s.q(query), args...)
		if err != nil {
			return nil, err
		}
		var chosen, dead, paused []string
		var ordered []orderedCand
		var rated []rateCand // of rate-limited endpoints: need a token
		limits := map[string]webhook.RateLimit{}
		seen, skipped := 0, false
		for rows.Next() {
			var id, ep string
			var disabled, inactive, isOrdered, burst int
			var perSecond float64
			if err := rows.Scan(&id, &ep, &disabled, &inactive, &isOrdered, &perSecond, &burst); err != nil {
				rows.Close()
				return nil, err
			}
			seen++
			if l := rateLimitIn(p, perSecond, burst); l.PerSecond > 0 {
				limits[ep] = l
			}
			switch {
			case disabled != 0:
				dead = append(dead, id)
			case inactive != 0:
				paused = append(paused, id)
				exclude(ep) // its other rows wait too: look past them
			case len(picked)+len(chosen)+len(rated)+len(ordered) >= p.Limit:
				skipped = true
			case p.MaxPerEndpoint > 0 && p.InFlight[ep]+taken[ep] >= p.MaxPerEndpoint:
				exclude(ep)
				skipped = true
			case isOrdered != 0:
				// Ordered delivery: at most one per endpoint and Claim, the
				// first in due order, if pickOrdered finds it may go.
				if !excludedSet[ep] {
					ordered = append(ordered, orderedCand{id: id, endpoint: ep})
				}
				exclude(ep)
				skipped = true
			case limits[ep].PerSecond > 0:
				taken[ep]++
				rated = append(rated, rateCand{id: id, endpoint: ep, limit: limits[ep]})
			default:
				taken[ep]++
				chosen = append(chosen, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(dead) > 0 {
			if err := s.updateIn(ctx, tx, `UPDATE {p}deliveries SET state = 'failed', last_error = ?, claim_token = NULL, updated_at = ?
				WHERE id IN (%s)`, []any{webhook.ReasonEndpointDisabled, now}, dead); err != nil {
				return nil, err
			}
		}
		if len(paused) > 0 {
			// Park them until the endpoint is active again (UpdateEndpoint).
			// A lease token stays: a late Complete of an attempt made
			// before the switch still counts.
			if err := s.updateIn(ctx, tx, `UPDATE {p}deliveries SET due_at = ? WHERE id IN (%s)`,
				[]any{int64(parkedDue)}, paused); err != nil {
				return nil, err
			}
		}
		if len(ordered) > 0 {
			ids, err := s.pickOrdered(ctx, tx, ordered, now, p.Limit-len(picked)-len(chosen)-len(rated))
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				taken[id.endpoint]++
				if l := limits[id.endpoint]; l.PerSecond > 0 {
					rated = append(rated, rateCand{id: id.id, endpoint: id.endpoint, limit: l})
				} else {
					chosen = append(chosen, id.id)
				}
			}
		}
		if len(rated) > 0 {
			granted, err := s.takeTokens(ctx, tx, rated, p.Now, p.RateAhead, notBefore)
			if err != nil {
				return nil, err
			}
			ok := make(map[string]bool, len(granted))
			for _, c := range granted {
				ok[c.id] = true
				chosen = append(chosen, c.id)
			}
			for _, c := range rated {
				if !ok[c.id] { // no token: its endpoint waits, as if capped
					taken[c.endpoint]--
					exclude(c.endpoint)
					skipped = true
				}
			}
		}
		if len(chosen) > 0 {
			if err := s.lease(ctx, tx, chosen, token, clampNanos(p.Now.Add(p.Lease)), l); err != nil {
				return nil, err
			}
			picked = append(picked, chosen...)
		}
		if seen < scan || (!skipped && len(dead) == 0 && len(paused) == 0) {
			break // the table holds no more due rows for us
		}
	}
	if len(picked) == 0 {
		return nil, nil
	}
	var claims []*webhook.Claim
	var err error
	if s.dia.returningInWith() { // lease read the rows
		claims, err = s.finishClaims(ctx, tx, picked, l, token, p.Now, p.Now.Add(p.Lease))
	} else {
		claims, err = s.loadClaims(ctx, tx, picked, token, p.Now, p.Now.Add(p.Lease))
	}
	for _, c := range claims {
		c.NotBefore = notBefore[c.Delivery.ID]
	}
	return claims, err
}

// lease gives the deliveries ids the lease token and leased_until at the
// lease's end (due, in nanoseconds). On PostgreSQL the same statement returns what the claim
// sends (the delivery, its event's body and metadata) into l; on SQLite
// loadClaims reads them afterwards.
func (s *Store) lease(ctx context.Context, tx querier, ids []string, token string, due int64, l *leased) error {
	if !s.dia.returningInWith() {
		return s.updateIn(ctx, tx, `UPDATE {p}deliveries SET claim_token = ? || id, leased_until = ? WHERE id IN (%s)`,
			[]any{token, due}, ids)
	}
	in, list := s.inList(ids)
	args := append([]any{token, due}, list...)
	rows, err := tx.QueryContext(ctx, s.q(`WITH d AS (UPDATE {p}deliveries SET claim_token = ? || id, leased_until = ?
		WHERE id IN (`+in+`) RETURNING *)
		SELECT `+deliveryColumnsD+`, ev.body, ev.metadata FROM d LEFT JOIN {p}events ev ON ev.id = d.event_id`), args...)
	if err != nil {
		return err
	}
	return l.read(ctx, s, rows)
}

// updateIn runs query with "%s" replaced by placeholders for ids, args
// first and then ids.
func (s *Store) updateIn(ctx context.Context, tx querier, query string, args []any, ids []string) error {
	text, list := s.liteIn(query, ids)
	all := append(append([]any(nil), args...), list...)
	_, err := tx.ExecContext(ctx, s.q(text), all...)
	return err
}

// leased is what a claim has read of the deliveries it leased.
type leased struct {
	byID     map[string]*webhook.Delivery
	bodies   map[string][]byte            // by event ID
	metadata map[string]map[string]string // by event ID
	orphans  []string                     // deliveries whose event is gone
	order    []string                     // every delivery read, in the rows' order (claimFast then sorts it)
	// each, when set, is called with every delivery's ID as its row is
	// read, its extra values scanned.
	each func(id string)
}

func newLeased() *leased {
	return &leased{byID: map[string]*webhook.Delivery{}, bodies: map[string][]byte{}, metadata: map[string]map[string]string{}}
}

// read reads rows of deliveryColumns, the event's body and metadata (the
// body NULL when the event is gone), then extra, and closes them. A row
// whose delivery ID is empty carries only extra.
func (l *leased) read(ctx context.Context, s *Store, rows *sql.Rows, extra ...any) error {
	defer rows.Close()
	for rows.Next() {
		var (
			body []byte
			md   sql.NullString
		)
		d, err := scanDelivery(rows, append([]any{&body, &md}, extra...)...)
		if err != nil {
			return err
		}
		if d.ID == "" {
			continue // a row of extra only (claimFast's summary)
		}
		l.order = append(l.order, d.ID)
		if l.each != nil {
			l.each(d.ID)
		}
		if body == nil {
			l.orphans = append(l.orphans, d.ID)
			continue
		}
		l.byID[d.ID] = d
		if _, ok := l.bodies[d.EventID]; !ok {
			l.bodies[d.EventID] = body
			m, err := decodeMetadata(md)
			if err != nil {
				// Metadata only links traces: never hold a delivery for it.
				s.opts.Logger.WarnContext(ctx, "sqlstore: claim: event metadata does not decode; sent without it", "event", d.EventID, "err", err)
			}
			l.metadata[d.EventID] = m
		}
	}
	return rows.Err()
}

// loadClaims reads what workers need for the leased deliveries ids, in
// their order. retryAt is when their lease ends.
func (s *Store) loadClaims(ctx context.Context, tx querier, ids []string, token string, now, retryAt time.Time) ([]*webhook.Claim, error) {
	in, args := s.inList(ids)
	// The event's body comes with the delivery; an event that is gone
	// (removed by hand: the store never deletes the event of a delivery)
	// ends its deliveries rather than failing every Claim.
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+deliveryColumnsD+`, ev.body, ev.metadata FROM {p}deliveries d
		LEFT JOIN {p}events ev ON ev.id = d.event_id WHERE d.id IN (`+in+`)`), args...)
	if err != nil {
		return nil, err
	}
	l := newLeased()
	if err := l.read(ctx, s, rows); err != nil {
		return nil, err
	}
	return s.finishClaims(ctx, tx, ids, l, token, now, retryAt)
}

// finishClaims ends the orphans of l, reads the endpoints and secrets, and
// makes the claims of ids, in their order.
func (s *Store) finishClaims(ctx context.Context, tx querier, ids []string, l *leased, token string, now, retryAt time.Time) ([]*webhook.Claim, error) {
	byID, bodies, metadata, orphans := l.byID, l.bodies, l.metadata, l.orphans
	if len(orphans) > 0 {
		if err := s.updateIn(ctx, tx, `UPDATE {p}deliveries SET state = 'failed', last_error = 'event not found', claim_token = NULL
			WHERE id IN (%s)`, nil, orphans); err != nil {
			return nil, err
		}
	}

	// An endpoint whose row does not decode (events or headers JSON edited
	// by hand) or whose secret does not decrypt (a key this instance does
	// not hold yet during a rolling key rotation, a corrupt row) must not
	// stop the Claim of every other endpoint's deliveries: its deliveries
	// are left out and stay leased until the lease ends (their
	// leased_until is already now+lease), then come up again.
	var epIDs []string
	seenEp := map[string]bool{}
	for _, id := range ids {
		if d := byID[id]; d != nil && !seenEp[d.EndpointID] {
			seenEp[d.EndpointID] = true
			epIDs = append(epIDs, d.EndpointID)
		}
	}
	endpoints, secrets, unreadable, gone, err := s.claimEndpoints(ctx, tx, epIDs, now)
	if err != nil {
		return nil, err
	}
	var unreadableOrder []string
	held := map[string][]string{}
	claims := make([]*webhook.Claim, 0, len(ids))
	for _, id := range ids {
		d := byID[id]
		if d == nil || gone[d.EndpointID] {
			// An endpoint deleted since the lease: DeleteEndpoint deleted
			// its deliveries too, or, if one is left, it is ended once its
			// lease ends, as the claim ends a missing endpoint's deliveries.
			continue
		}
		if _, ok := unreadable[d.EndpointID]; ok {
			if held[d.EndpointID] == nil {
				unreadableOrder = append(unreadableOrder, d.EndpointID)
			}
			held[d.EndpointID] = append(held[d.EndpointID], d.ID)
			continue
		}
		claims = append(claims, &webhook.Claim{
			Delivery: d,
			// The claims of one endpoint share its copy, as Claim allows.
			Endpoint: endpoints[d.EndpointID],
			Secrets:  secrets[d.EndpointID],
			Body:     bodies[d.EventID],
			Token:    token + d.ID,
			Metadata: metadata[d.EventID],
		})
	}
	for _, ep := range unreadableOrder {
		lastError, msg := "signing secret unreadable, delivery delayed: ",
			"sqlstore: claim left out deliveries whose endpoint secret does not decrypt; they are due again when the lease ends"
		err := unreadable[ep]
		var badRow *corruptEndpointError
		if errors.As(err, &badRow) {
			err = badRow // without getEndpoint's prefix
			lastError, msg = "endpoint settings unreadable, delivery delayed: ",
				"sqlstore: claim left out deliveries whose endpoint row does not decode; they are due again when the lease ends"
		}
		// Drop the lease token (no worker holds these rows) and say why
		// in last_error, which ListDeliveries shows; leased_until stays at
		// the lease's end.
		if err := s.updateIn(ctx, tx, `UPDATE {p}deliveries SET claim_token = NULL, last_error = ? WHERE id IN (%s)`,
			[]any{clean(lastError+err.Error(), 1024)}, held[ep]); err != nil {
			return nil, err
		}
		s.opts.Logger.ErrorContext(ctx, msg, "endpoint", ep, "deliveries", len(held[ep]), "retry_at", retryAt, "err", err)
	}
	return claims, nil
}
