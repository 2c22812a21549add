package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	webhook "github.com/outhook/webhook"
)

const deliveryColumns = `id, event_id, event_type, tenant_id, endpoint_id, state, attempts, next_attempt_at,
	last_error, created_at, updated_at`

// deliveryColumnsD is deliveryColumns qualified with the alias d.
var deliveryColumnsD = "d." + strings.ReplaceAll(deliveryColumns, ", ", ", d.")

// scanDelivery reads deliveryColumns, then extra.
func scanDelivery(r scanner, extra ...any) (*webhook.Delivery, error) {
	var (
		d                      webhook.Delivery
		state                  string
		next, created, updated int64
	)
	dest := []any{&d.ID, &d.EventID, &d.EventType, &d.TenantID, &d.EndpointID, &state, &d.Attempts, &next,
		&d.LastError, &created, &updated}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	d.State = webhook.DeliveryState(state)
	d.NextAttemptAt = time.Unix(0, next).UTC()
	d.CreatedAt = time.Unix(0, created).UTC()
	d.UpdatedAt = time.Unix(0, updated).UTC()
	return &d, nil
}

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
	body := ev.Body
	if body == nil {
		body = []byte{}
	}
	md, err := encodeMetadata(ev.Metadata)
	if err != nil {
		return err
	}
	n, err := tx.Exec(ctx, s.q(`INSERT INTO {p}events (id, type, tenant_id, created_at, body, metadata)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`), ev.ID, ev.Type, ev.TenantID, clampNanos(ev.CreatedAt), body, md)
	if err != nil {
		return err
	}
	if n == 0 {
		return s.duplicate(ctx, tx, ev.ID)
	}
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
	if len(deliveries) > 0 {
		return s.signal(ctx, tx)
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
	if s.dialect == Postgres {
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, s.channel)
		return err
	}
	_, err := tx.Exec(ctx, s.q(`UPDATE {p}signal SET seq = seq + 1 WHERE id = 1`))
	return err
}

// claimRounds bounds how often one Claim scans again after skipping rows
// for the per-endpoint cap or for a disabled endpoint.
const claimRounds = 8

// Claim implements webhook.Store. On PostgreSQL the due rows are read in
// due order through a partial index with FOR UPDATE SKIP LOCKED, so
// concurrent Claims in several processes take disjoint rows without
// waiting for each other; the chosen rows get a lease token and a due time
// at the lease's end, which is when another Claim may take them again if
// no Complete came. On SQLite the transaction holds the write lock.
//
// The deliveries of an endpoint whose secret does not decrypt, or whose
// stored events or headers do not decode (JSON edited by hand), are left
// out of the result rather than failing the call: they keep the lease's
// due time (so come up again when it ends), their LastError says why, and
// Options.Logger hears of it.
func (s *Store) Claim(ctx context.Context, p webhook.ClaimParams) ([]*webhook.Claim, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	var claims []*webhook.Claim
	err := s.inTx(ctx, func(tx querier) error {
		var err error
		claims, err = s.claim(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim: %w", err)
	}
	return claims, nil
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
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE OF d SKIP LOCKED"
	}
	var picked []string
	for round := 0; round < claimRounds && len(picked) < p.Limit; round++ {
		want := p.Limit - len(picked)
		scan := want
		if p.MaxPerEndpoint > 0 {
			scan = min(want*2+8, 1000)
		}
		query := `SELECT d.id, d.endpoint_id, COALESCE(e.disabled, 1), COALESCE(e.inactive, 0) FROM {p}deliveries d
			LEFT JOIN {p}endpoints e ON e.id = d.endpoint_id
			WHERE d.state = 'pending' AND d.due_at <= ?`
		args := []any{now}
		if len(excluded) > 0 {
			query += ` AND d.endpoint_id NOT IN (` + placeholders(len(excluded)) + `)`
			for _, ep := range excluded {
				args = append(args, ep)
			}
		}
		query += ` ORDER BY d.due_at, d.id LIMIT ?` + lock
		args = append(args, scan)
		rows, err := tx.QueryContext(ctx, s.q(query), args...)
		if err != nil {
			return nil, err
		}
		var chosen, dead, paused []string
		seen, skipped := 0, false
		for rows.Next() {
			var id, ep string
			var disabled, inactive int
			if err := rows.Scan(&id, &ep, &disabled, &inactive); err != nil {
				rows.Close()
				return nil, err
			}
			seen++
			switch {
			case disabled != 0:
				dead = append(dead, id)
			case inactive != 0:
				paused = append(paused, id)
				exclude(ep) // its other rows wait too: look past them
			case len(picked)+len(chosen) >= p.Limit:
				skipped = true
			case p.MaxPerEndpoint > 0 && p.InFlight[ep]+taken[ep] >= p.MaxPerEndpoint:
				exclude(ep)
				skipped = true
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
			if err := s.updateIn(ctx, tx, `UPDATE {p}deliveries SET state = 'failed', last_error = ?, lease_token = NULL, updated_at = ?
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
		if len(chosen) > 0 {
			if err := s.updateIn(ctx, tx, `UPDATE {p}deliveries SET lease_token = ? || id, due_at = ? WHERE id IN (%s)`,
				[]any{token, clampNanos(p.Now.Add(p.Lease))}, chosen); err != nil {
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
	return s.loadClaims(ctx, tx, picked, token, p.Now, p.Now.Add(p.Lease))
}

// updateIn runs query with "%s" replaced by placeholders for ids, args
// first and then ids.
func (s *Store) updateIn(ctx context.Context, tx querier, query string, args []any, ids []string) error {
	all := append([]any(nil), args...)
	for _, id := range ids {
		all = append(all, id)
	}
	_, err := tx.ExecContext(ctx, s.q(fmt.Sprintf(query, placeholders(len(ids)))), all...)
	return err
}

// loadClaims reads what workers need for the leased deliveries ids, in
// their order. retryAt is when their lease ends.
func (s *Store) loadClaims(ctx context.Context, tx querier, ids []string, token string, now, retryAt time.Time) ([]*webhook.Claim, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	// The event's body comes with the delivery; an event that is gone
	// (removed by hand: the store never deletes the event of a delivery)
	// ends its deliveries rather than failing every Claim.
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+deliveryColumnsD+`, ev.body, ev.metadata FROM {p}deliveries d
		LEFT JOIN {p}events ev ON ev.id = d.event_id WHERE d.id IN (`+placeholders(len(ids))+`)`), args...)
	if err != nil {
		return nil, err
	}
	byID := map[string]*webhook.Delivery{}
	bodies := map[string][]byte{}
	metadata := map[string]map[string]string{}
	var orphans []string
	for rows.Next() {
		var (
			body []byte
			md   sql.NullString
		)
		d, err := scanDelivery(rows, &body, &md)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if body == nil {
			orphans = append(orphans, d.ID)
			continue
		}
		byID[d.ID] = d
		if _, ok := bodies[d.EventID]; !ok {
			bodies[d.EventID] = body
			m, err := decodeMetadata(md)
			if err != nil {
				// Metadata only links traces: never hold a delivery for it.
				s.opts.Logger.WarnContext(ctx, "sqlstore: claim: event metadata does not decode; sent without it", "event", d.EventID, "err", err)
			}
			metadata[d.EventID] = m
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(orphans) > 0 {
		if err := s.updateIn(ctx, tx, `UPDATE {p}deliveries SET state = 'failed', last_error = 'event not found', lease_token = NULL
			WHERE id IN (%s)`, nil, orphans); err != nil {
			return nil, err
		}
	}

	endpoints := map[string]*webhook.Endpoint{}
	secrets := map[string][]webhook.Secret{}
	tenantSecrets := map[string][]webhook.Secret{}
	// An endpoint whose row does not decode (events or headers JSON edited
	// by hand) or whose secret does not decrypt (a key this instance does
	// not hold yet during a rolling key rotation, a corrupt row) must not
	// stop the Claim of every other endpoint's deliveries: its deliveries
	// are left out and stay leased until the lease ends (their due time
	// already is now+lease), then come up again.
	unreadable := map[string]error{}
	var unreadableOrder []string
	held := map[string][]string{}
	claims := make([]*webhook.Claim, 0, len(ids))
	for _, id := range ids {
		d := byID[id]
		if d == nil {
			continue
		}
		if _, ok := unreadable[d.EndpointID]; ok {
			held[d.EndpointID] = append(held[d.EndpointID], d.ID)
			continue
		}
		if _, ok := endpoints[d.EndpointID]; !ok {
			ep, err := s.getEndpoint(ctx, tx, d.EndpointID)
			var sec []webhook.Secret
			if err == nil {
				if ep.TenantSecret {
					// One read per tenant, however many of its endpoints
					// this Claim serves.
					var ok bool
					if sec, ok = tenantSecrets[ep.TenantID]; !ok {
						sec, err = s.tenantSecrets(ctx, tx, ep.TenantID, now)
						if err == nil {
							tenantSecrets[ep.TenantID] = sec
						}
					}
				} else {
					sec, err = s.signingSecrets(ctx, tx, ep, now)
				}
			}
			var badSecret *unreadableSecretError
			var badRow *corruptEndpointError
			if errors.As(err, &badSecret) || errors.As(err, &badRow) {
				unreadable[d.EndpointID] = err
				unreadableOrder = append(unreadableOrder, d.EndpointID)
				held[d.EndpointID] = append(held[d.EndpointID], d.ID)
				continue
			}
			if err != nil {
				return nil, err
			}
			endpoints[d.EndpointID] = ep
			secrets[d.EndpointID] = sec
		}
		claims = append(claims, &webhook.Claim{
			Delivery: d,
			Endpoint: endpoints[d.EndpointID].Clone(),
			Secrets:  append([]webhook.Secret(nil), secrets[d.EndpointID]...),
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
		// in last_error, which ListDeliveries shows; due_at stays at the
		// lease's end.
		if err := s.updateIn(ctx, tx, `UPDATE {p}deliveries SET lease_token = NULL, last_error = ? WHERE id IN (%s)`,
			[]any{clean(lastError+err.Error(), 1024)}, held[ep]); err != nil {
			return nil, err
		}
		s.opts.Logger.ErrorContext(ctx, msg, "endpoint", ep, "deliveries", len(held[ep]), "retry_at", retryAt, "err", err)
	}
	return claims, nil
}

// Complete implements webhook.Store. It locks the endpoint row first (the
// order DisableEndpoint uses too), then updates the delivery only if the
// lease token still matches, records the attempt and updates the
// endpoint's counters, all in one transaction: concurrent Completes of one
// endpoint, in any process, queue on the endpoint row, so the consecutive
// failure count is exact and the threshold disables exactly once.
func (s *Store) Complete(ctx context.Context, c webhook.Completion) (*webhook.Endpoint, bool, error) {
	var (
		ep       *webhook.Endpoint
		disabled bool
	)
	var lost bool
	err := s.inTx(ctx, func(tx querier) error {
		var err error
		ep, disabled, err = s.complete(ctx, tx, c)
		if errors.Is(err, errEndedByDisable) {
			lost = true
			return nil // commit the delivery's end
		}
		return err
	})
	if err == nil && lost {
		err = webhook.ErrLeaseLost
	}
	if err != nil {
		if errors.Is(err, webhook.ErrLeaseLost) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("sqlstore: complete: %w", err)
	}
	return ep, disabled, nil
}

func (s *Store) complete(ctx context.Context, tx querier, c webhook.Completion) (*webhook.Endpoint, bool, error) {
	now := clampNanos(c.Now)
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE OF e"
	}
	// Read the delivery and lock its endpoint's row in one statement: the
	// endpoint row first, as DisableEndpoint does, so they cannot deadlock.
	var (
		endpointID, eventID   string
		attempts, wasDisabled int
	)
	err := tx.QueryRowContext(ctx, s.q(`SELECT d.endpoint_id, d.event_id, d.attempts, e.disabled
		FROM {p}deliveries d JOIN {p}endpoints e ON e.id = d.endpoint_id WHERE d.id = ?`+lock), c.DeliveryID).
		Scan(&endpointID, &eventID, &attempts, &wasDisabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, webhook.ErrLeaseLost // the delivery or its endpoint is gone
	}
	if err != nil {
		return nil, false, err
	}
	if wasDisabled != 0 && c.Outcome != webhook.OutcomeSuccess {
		// A Claim that read the endpoint just before a concurrent disable
		// committed handed this delivery out after the disable had ended the
		// endpoint's pending deliveries. End it the way the disable would
		// have, and count nothing: the lease did not hold.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'failed', last_error = ?, lease_token = NULL,
			updated_at = ? WHERE id = ? AND lease_token = ? AND state = 'pending'`),
			webhook.ReasonEndpointDisabled, now, c.DeliveryID, c.Token); err != nil {
			return nil, false, err
		}
		return nil, false, errEndedByDisable
	}

	a := webhook.Attempt{}
	if c.Attempt != nil {
		a = *c.Attempt
	}
	reason := clean(a.Error, 1024)

	var res sql.Result
	switch c.Outcome {
	case webhook.OutcomeSuccess:
		// A success is recorded also when a disable ended the delivery
		// while the attempt was in flight (the disable keeps the token):
		// the receiver did get it.
		res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'succeeded', attempts = attempts + 1,
			lease_token = NULL, last_error = '', updated_at = ? WHERE id = ? AND lease_token = ?
			AND (state = 'pending' OR (state = 'failed' AND last_error = ?))`),
			now, c.DeliveryID, c.Token, webhook.ReasonEndpointDisabled)
	case webhook.OutcomeRetry:
		at := clampNanos(c.RetryAt)
		res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET attempts = attempts + 1, next_attempt_at = ?, due_at = ?,
			lease_token = NULL, last_error = ?, updated_at = ? WHERE id = ? AND lease_token = ? AND state = 'pending'`),
			at, at, reason, now, c.DeliveryID, c.Token)
	case webhook.OutcomeFail:
		res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'failed', attempts = attempts + 1,
			lease_token = NULL, last_error = ?, updated_at = ? WHERE id = ? AND lease_token = ? AND state = 'pending'`),
			reason, now, c.DeliveryID, c.Token)
	default:
		return nil, false, &webhook.ValidationError{Field: "Outcome", Reason: fmt.Sprintf("unknown outcome %d", c.Outcome)}
	}
	if err != nil {
		return nil, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, false, err
	} else if n == 0 {
		return nil, false, webhook.ErrLeaseLost
	}

	if a.ID == "" {
		a.ID = newID()
	}
	if a.Number == 0 {
		a.Number = attempts + 1
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO {p}attempts (id, delivery_id, event_id, endpoint_id, number, started_at,
		duration_ns, status_code, response_body, error, success) VALUES (`+placeholders(11)+`)`),
		a.ID, c.DeliveryID, eventID, endpointID, a.Number, clampNanos(a.StartedAt), int64(a.Duration), a.StatusCode,
		clean(a.ResponseBody, s.opts.ResponseExcerpt), reason, boolInt(c.Outcome == webhook.OutcomeSuccess))
	if err != nil {
		return nil, false, err
	}

	var set string
	var args []any
	switch c.Outcome {
	case webhook.OutcomeSuccess:
		set, args = `consecutive_failures = 0, last_success_at = ?`, []any{now}
	case webhook.OutcomeRetry:
		set, args = `last_failure_at = ?, last_failure_reason = ?`, []any{now, reason}
	case webhook.OutcomeFail:
		set, args = `consecutive_failures = consecutive_failures + 1, last_failure_at = ?, last_failure_reason = ?`, []any{now, reason}
	}
	ep, err := scanEndpoint(tx.QueryRowContext(ctx, s.q(`UPDATE {p}endpoints SET `+set+` WHERE id = ? RETURNING `+endpointColumns),
		append(args, endpointID)...))
	if err != nil {
		return nil, false, err
	}
	if c.Outcome != webhook.OutcomeFail {
		return ep, false, nil
	}
	why := c.DisableReason
	if why == "" && c.DisableAfter > 0 && ep.ConsecutiveFailures >= c.DisableAfter {
		why = fmt.Sprintf("%d consecutive failed deliveries; last: %s", ep.ConsecutiveFailures, reason)
	}
	if why == "" {
		return ep, false, nil
	}
	if err := s.disable(ctx, tx, endpointID, why, c.Now); err != nil {
		return nil, false, err
	}
	ep, err = s.getEndpoint(ctx, tx, endpointID)
	if err != nil {
		return nil, false, err
	}
	return ep, true, nil
}

// errEndedByDisable tells Complete to commit and report ErrLeaseLost.
var errEndedByDisable = errors.New("sqlstore: delivery ended by a disable")

// clean makes s storable as text in every database (valid UTF-8, no NUL,
// which PostgreSQL rejects) and cuts it to at most max bytes at a rune
// boundary.
func clean(s string, max int) string {
	if len(s) > max {
		s = s[:max]
		// Drop the bytes of a rune the cut split in half.
		for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
			r, size := utf8.DecodeLastRuneInString(s)
			if r != utf8.RuneError || size != 1 {
				break
			}
			s = s[:len(s)-1]
		}
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// GetEvent implements webhook.Store.
func (s *Store) GetEvent(ctx context.Context, id string) (*webhook.StoredEvent, error) {
	var (
		ev      webhook.StoredEvent
		created int64
		md      sql.NullString
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, type, tenant_id, created_at, body, metadata FROM {p}events WHERE id = ?`), id).
		Scan(&ev.ID, &ev.Type, &ev.TenantID, &created, &ev.Body, &md)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webhook.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get event: %w", err)
	}
	ev.CreatedAt = time.Unix(0, created).UTC()
	if ev.Metadata, err = decodeMetadata(md); err != nil {
		return nil, fmt.Errorf("sqlstore: get event %s: %w", id, err)
	}
	return &ev, nil
}

// GetDelivery implements webhook.Store.
func (s *Store) GetDelivery(ctx context.Context, id string) (*webhook.Delivery, error) {
	d, err := scanDelivery(s.db.QueryRowContext(ctx, s.q(`SELECT `+deliveryColumns+` FROM {p}deliveries WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webhook.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get delivery: %w", err)
	}
	return d, nil
}

// List page sizes.
const (
	listLimitDefault = 50
	listLimitMax     = 1000
)

// ListDeliveries implements webhook.Store. Pages are read by keyset on
// (created_at, id), newest first; the cursor is opaque to callers.
func (s *Store) ListDeliveries(ctx context.Context, f webhook.DeliveryFilter) ([]*webhook.Delivery, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = listLimitDefault
	}
	limit = min(limit, listLimitMax)
	var (
		where []string
		args  []any
	)
	add := func(cond string, vals ...any) {
		where = append(where, cond)
		args = append(args, vals...)
	}
	if f.EndpointID != "" {
		add("endpoint_id = ?", f.EndpointID)
	}
	if f.EventID != "" {
		add("event_id = ?", f.EventID)
	}
	if f.TenantID != "" {
		add("tenant_id = ?", f.TenantID)
	}
	if f.EventType != "" {
		add("event_type = ?", f.EventType)
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", clampNanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < ?", clampNanos(f.Until))
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add("(created_at < ? OR (created_at = ? AND id < ?))", at, at, id)
	}
	query := `SELECT ` + deliveryColumns + ` FROM {p}deliveries`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlstore: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*webhook.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlstore: list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlstore: list deliveries: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(clampNanos(last.CreatedAt), last.ID)
	}
	return out, next, nil
}

func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "/" + id))
}

func decodeCursor(c string) (int64, string, error) {
	bad := &webhook.ValidationError{Field: "Cursor", Reason: "not a value ListDeliveries returned"}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", bad
	}
	at, id, ok := strings.Cut(string(raw), "/")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" || !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
		return 0, "", bad // not ours: and PostgreSQL would refuse NUL or invalid UTF-8
	}
	return n, id, nil
}

// ListAttempts implements webhook.Store: oldest first by StartedAt. Not by
// number, which Requeue (Redeliver, Recover) starts again at 1. Attempts
// that started at the same instant (only a clock that stands still does
// that) come by number, then by ID.
func (s *Store) ListAttempts(ctx context.Context, deliveryID string) ([]*webhook.Attempt, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, delivery_id, event_id, endpoint_id, number, started_at,
		duration_ns, status_code, response_body, error, success FROM {p}attempts WHERE delivery_id = ?
		ORDER BY started_at, number, id`), deliveryID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list attempts: %w", err)
	}
	defer rows.Close()
	var out []*webhook.Attempt
	for rows.Next() {
		var (
			a            webhook.Attempt
			started, dur int64
			success      int
		)
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.EventID, &a.EndpointID, &a.Number, &started, &dur, &a.StatusCode,
			&a.ResponseBody, &a.Error, &success); err != nil {
			return nil, fmt.Errorf("sqlstore: list attempts: %w", err)
		}
		a.StartedAt = time.Unix(0, started).UTC()
		a.Duration = time.Duration(dur)
		a.Success = success != 0
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list attempts: %w", err)
	}
	if len(out) == 0 {
		if _, err := s.GetDelivery(ctx, deliveryID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Requeue implements webhook.Store.
func (s *Store) Requeue(ctx context.Context, p webhook.RequeueParams) (int, error) {
	if (p.DeliveryID == "") == (p.EndpointID == "") {
		return 0, &webhook.ValidationError{Field: "RequeueParams", Reason: "set exactly one of DeliveryID and EndpointID"}
	}
	now := clampNanos(p.Now)
	since := int64(math.MinInt64)
	if !p.Since.IsZero() {
		since = clampNanos(p.Since)
	}
	n := 0
	err := s.inTx(ctx, func(tx querier) error {
		var (
			res sql.Result
			err error
		)
		// The endpoint's row is locked before its disabled flag is read, as
		// DisableEndpoint does: a disable committing in between would
		// otherwise find nothing pending to end, and this would then queue
		// deliveries of a disabled endpoint.
		if p.DeliveryID != "" {
			var state, endpointID string
			err = tx.QueryRowContext(ctx, s.q(`SELECT state, endpoint_id FROM {p}deliveries WHERE id = ?`), p.DeliveryID).
				Scan(&state, &endpointID)
			if errors.Is(err, sql.ErrNoRows) {
				return webhook.ErrNotFound
			}
			if err != nil {
				return err
			}
			var disabled bool
			disabled, err = s.isDisabled(ctx, tx, endpointID, true)
			if errors.Is(err, webhook.ErrNotFound) {
				return nil // the endpoint is gone: nothing to queue for
			}
			if err != nil {
				return err
			}
			if disabled || state == string(webhook.StatePending) {
				return nil
			}
			res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,
				due_at = ?, lease_token = NULL, last_error = '', updated_at = ? WHERE id = ? AND state <> 'pending'`),
				now, now, now, p.DeliveryID)
		} else {
			var disabled bool
			disabled, err = s.isDisabled(ctx, tx, p.EndpointID, true)
			if err != nil || disabled {
				return err
			}
			res, err = tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,
				due_at = ?, lease_token = NULL, last_error = '', updated_at = ?
				WHERE endpoint_id = ? AND state = 'failed' AND created_at >= ?`),
				now, now, now, p.EndpointID, since)
		}
		if err != nil {
			return err
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(affected)
		if n > 0 {
			return s.signal(ctx, webhook.WrapSQLTx(tx))
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, webhook.ErrNotFound) {
			return 0, err
		}
		return 0, fmt.Errorf("sqlstore: requeue: %w", err)
	}
	return n, nil
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
