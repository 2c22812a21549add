package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

const endpointColumns = `id, tenant_id, name, url, events, method, content_type, max_attempts, headers,
	disabled, disabled_reason, disabled_at, consecutive_failures, last_success_at, last_failure_at,
	last_failure_reason, created_at, updated_at, signing, inactive,
	rate_per_second, rate_burst, ordered`

// endpointColumnsE is endpointColumns of the endpoints table aliased e.
var endpointColumnsE = "e." + strings.Join(strings.Fields(strings.ReplaceAll(endpointColumns, ",", " ")), ", e.")

// Values of the endpoints.signing column.
const (
	signingOwn    = ""       // the endpoint's own secrets
	signingTenant = "tenant" // its tenant's (Endpoint.TenantSecret)
	signingNone   = "none"   // unsigned (Endpoint.Unsigned)
)

// parkedDue is the due_at of a pending delivery of an inactive endpoint:
// past every time Claim asks for, so it waits out of Claim's scans until
// UpdateEndpoint makes the endpoint active and puts it back at its
// next_attempt_at.
const parkedDue = math.MaxInt64

func signingOf(ep *webhook.Endpoint) string {
	switch {
	case ep.Unsigned:
		return signingNone
	case ep.TenantSecret:
		return signingTenant
	}
	return signingOwn
}

type scanner interface{ Scan(dest ...any) error }

// corruptEndpointError marks an endpoint row whose stored events or
// headers do not decode (JSON edited by hand): a fault of one endpoint's
// data, which Claim handles per endpoint, unlike a database error.
type corruptEndpointError struct {
	id, column string
	err        error
}

func (e *corruptEndpointError) Error() string {
	return fmt.Sprintf("sqlstore: endpoint %s: stored %s do not decode as JSON (fix or delete the row): %v", e.id, e.column, e.err)
}

func (e *corruptEndpointError) Unwrap() error { return e.err }

// scanEndpoint reads endpointColumns, then extra. A row whose events or
// headers do not decode is a *corruptEndpointError naming the endpoint and
// the column.
func scanEndpoint(r scanner, extra ...any) (*webhook.Endpoint, error) {
	var (
		ep                                webhook.Endpoint
		events, headers                   string
		disabled                          int
		disabledAt, lastSuccess, lastFail sql.NullInt64
		createdAt, updatedAt              int64
		signing                           string
		inactive                          int
		ordered                           int
	)
	dest := []any{&ep.ID, &ep.TenantID, &ep.Name, &ep.URL, &events, &ep.Method, &ep.ContentType, &ep.MaxAttempts, &headers,
		&disabled, &ep.DisabledReason, &disabledAt, &ep.ConsecutiveFailures, &lastSuccess, &lastFail,
		&ep.LastFailureReason, &createdAt, &updatedAt, &signing, &inactive,
		&ep.RateLimit.PerSecond, &ep.RateLimit.Burst, &ordered}
	err := r.Scan(append(dest, extra...)...)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &ep.Events); err != nil {
		return nil, &corruptEndpointError{id: ep.ID, column: "events", err: err}
	}
	if len(ep.Events) == 0 {
		ep.Events = nil
	}
	var h http.Header
	if err := json.Unmarshal([]byte(headers), &h); err != nil {
		return nil, &corruptEndpointError{id: ep.ID, column: "headers", err: err}
	}
	if len(h) > 0 {
		ep.Headers = h
	}
	ep.Disabled = disabled != 0
	ep.Unsigned = signing == signingNone
	ep.TenantSecret = signing == signingTenant
	ep.Inactive = inactive != 0
	ep.Ordered = ordered != 0
	ep.DisabledAt = fromNanos(disabledAt)
	ep.LastSuccessAt = fromNanos(lastSuccess)
	ep.LastFailureAt = fromNanos(lastFail)
	ep.CreatedAt = time.Unix(0, createdAt).UTC()
	ep.UpdatedAt = time.Unix(0, updatedAt).UTC()
	return &ep, nil
}

func encodeConfig(ep *webhook.Endpoint) (events, headers string, err error) {
	ev := ep.Events
	if ev == nil {
		ev = []string{}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return "", "", err
	}
	h := ep.Headers
	if h == nil {
		h = http.Header{}
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", "", err
	}
	return string(b), string(hb), nil
}

// CreateEndpoint implements webhook.Store. The zero secret stores none.
func (s *Store) CreateEndpoint(ctx context.Context, ep *webhook.Endpoint, secret webhook.Secret, maxPerTenant int) error {
	events, headers, err := encodeConfig(ep)
	if err != nil {
		return fmt.Errorf("sqlstore: create endpoint: %w", err)
	}
	stored, keyID, err := s.keys.seal(ep.ID, secret.Value)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx querier) error {
		if maxPerTenant > 0 {
			// Serialise creations per tenant so count and insert are one step.
			if err := s.dia.serialize(ctx, tx, "outhook/"+s.prefix+"/tenant/"+ep.TenantID); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM {p}endpoints WHERE tenant_id = ?`), ep.TenantID).Scan(&n); err != nil {
				return err
			}
			if n >= maxPerTenant {
				return webhook.ErrTooManyEndpoints
			}
		}
		seqCol, seqVal := s.dia.endpointSeq()
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO {p}endpoints (`+seqCol+endpointColumns+`)
			VALUES (`+seqVal+placeholders(23)+`)`),
			ep.ID, ep.TenantID, ep.Name, ep.URL, events, ep.Method, ep.ContentType, ep.MaxAttempts, headers,
			boolInt(ep.Disabled), ep.DisabledReason, nanos(ep.DisabledAt), ep.ConsecutiveFailures,
			nanos(ep.LastSuccessAt), nanos(ep.LastFailureAt), ep.LastFailureReason, clampNanos(ep.CreatedAt), clampNanos(ep.UpdatedAt),
			signingOf(ep), boolInt(ep.Inactive),
			ep.RateLimit.PerSecond, ep.RateLimit.Burst, boolInt(ep.Ordered))
		if err != nil {
			return err
		}
		if secret.Value == "" {
			return nil
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO {p}secrets (endpoint_id, seq, key_id, value, created_at, expires_at)
			VALUES (?, 1, ?, ?, ?, ?)`), ep.ID, keyID, stored, clampNanos(secret.CreatedAt), nanos(secret.ExpiresAt))
		return err
	})
	if err != nil && !errors.Is(err, webhook.ErrTooManyEndpoints) {
		return fmt.Errorf("sqlstore: create endpoint: %w", err)
	}
	return err
}

// GetEndpoint implements webhook.Store. An endpoint whose stored events
// or headers do not decode (edited by hand) is an error naming the
// endpoint and the column.
func (s *Store) GetEndpoint(ctx context.Context, id string) (*webhook.Endpoint, error) {
	return s.getEndpoint(ctx, s.db, id)
}

func (s *Store) getEndpoint(ctx context.Context, db querier, id string) (*webhook.Endpoint, error) {
	ep, err := scanEndpoint(db.QueryRowContext(ctx, s.q(`SELECT `+endpointColumns+` FROM {p}endpoints WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webhook.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get endpoint: %w", err)
	}
	return ep, nil
}

// ListEndpoints implements webhook.Store. If one of the tenant's
// endpoints has stored events or headers that do not decode (edited by
// hand), the call fails with an error naming that endpoint and column
// rather than leaving it out: Publish reads the tenant's endpoints here,
// and an endpoint skipped there would silently get no deliveries of the
// events published meanwhile, with nothing to recover them from. Other
// tenants are not affected.
func (s *Store) ListEndpoints(ctx context.Context, tenantID string) ([]*webhook.Endpoint, error) {
	if s.lite != nil {
		var out []*webhook.Endpoint
		done, err := s.lite.tryRead(ctx, func(q querier) error {
			var err error
			out, err = s.listEndpoints(ctx, q, tenantID)
			return err
		})
		if done {
			return out, err
		}
	}
	return s.listEndpoints(ctx, s.db, tenantID)
}

func (s *Store) listEndpoints(ctx context.Context, db querier, tenantID string) ([]*webhook.Endpoint, error) {
	rows, err := db.QueryContext(ctx, s.q(`SELECT `+endpointColumns+` FROM {p}endpoints
		WHERE tenant_id = ? ORDER BY created_at, seq`), tenantID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list endpoints: %w", err)
	}
	defer rows.Close()
	var out []*webhook.Endpoint
	for rows.Next() {
		ep, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list endpoints: %w", err)
		}
		out = append(out, ep)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list endpoints: %w", err)
	}
	return out, nil
}

// UpdateEndpoint implements webhook.Store. Making an inactive endpoint
// active puts its parked deliveries back at their own due times.
func (s *Store) UpdateEndpoint(ctx context.Context, ep *webhook.Endpoint) error {
	events, headers, err := encodeConfig(ep)
	if err != nil {
		return fmt.Errorf("sqlstore: update endpoint: %w", err)
	}
	err = s.inTx(ctx, func(tx querier) error {
		var wasInactive int
		err := tx.QueryRowContext(ctx, s.q(`SELECT inactive FROM {p}endpoints WHERE id = ?`+s.dia.forUpdate("")), ep.ID).Scan(&wasInactive)
		if errors.Is(err, sql.ErrNoRows) {
			return webhook.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}endpoints SET name = ?, url = ?, events = ?, method = ?,
			content_type = ?, max_attempts = ?, headers = ?, inactive = ?, updated_at = ?,
			rate_per_second = ?, rate_burst = ?, ordered = ? WHERE id = ?`),
			ep.Name, ep.URL, events, ep.Method, ep.ContentType, ep.MaxAttempts, headers, boolInt(ep.Inactive),
			clampNanos(ep.UpdatedAt), ep.RateLimit.PerSecond, ep.RateLimit.Burst, boolInt(ep.Ordered), ep.ID); err != nil {
			return err
		}
		if wasInactive == 0 || ep.Inactive {
			return nil
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET due_at = next_attempt_at
			WHERE endpoint_id = ? AND state = 'pending' AND due_at = ?`), ep.ID, int64(parkedDue))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return s.signal(ctx, webhook.WrapSQLTx(tx))
	})
	if err != nil && !errors.Is(err, webhook.ErrNotFound) {
		return fmt.Errorf("sqlstore: update endpoint: %w", err)
	}
	return err
}

func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	if n == 0 {
		return webhook.ErrNotFound
	}
	return nil
}

// DeleteEndpoint implements webhook.Store.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx querier) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM {p}endpoints WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "delete endpoint"); err != nil {
			return err
		}
		if s.dia.locksRows() {
			// Lock the deliveries before touching their attempts, the order
			// Prune takes them in (deliveries, then attempts); the other
			// order deadlocks with a Prune batch holding one of these rows.
			// A row Prune deletes meanwhile is simply not returned.
			rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM {p}deliveries WHERE endpoint_id = ? ORDER BY id FOR UPDATE`), id)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for _, stmt := range []string{
			`DELETE FROM {p}attempts WHERE delivery_id IN (SELECT id FROM {p}deliveries WHERE endpoint_id = ?)`,
			`DELETE FROM {p}deliveries WHERE endpoint_id = ?`,
			`DELETE FROM {p}secrets WHERE endpoint_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, s.q(stmt), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, webhook.ErrNotFound) {
		return fmt.Errorf("sqlstore: delete endpoint: %w", err)
	}
	return err
}

// DisableEndpoint implements webhook.Store.
func (s *Store) DisableEndpoint(ctx context.Context, id, reason string, now time.Time) error {
	err := s.inTx(ctx, func(tx querier) error {
		disabled, err := s.isDisabled(ctx, tx, id, true)
		if err != nil || disabled {
			return err
		}
		return s.disable(ctx, tx, id, reason, now)
	})
	if err != nil && !errors.Is(err, webhook.ErrNotFound) {
		return fmt.Errorf("sqlstore: disable endpoint: %w", err)
	}
	return err
}

// disable marks an enabled endpoint (locked by the caller's transaction)
// disabled and ends its pending deliveries.
func (s *Store) disable(ctx context.Context, tx querier, id, reason string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}endpoints SET disabled = 1, disabled_reason = ?, disabled_at = ?
		WHERE id = ? AND disabled = 0`), reason, clampNanos(now), id); err != nil {
		return err
	}
	// The lease token stays: an attempt in flight whose receiver answers
	// 2xx is still recorded as a success (see complete).
	_, err := tx.ExecContext(ctx, s.q(`UPDATE {p}deliveries SET state = 'failed', last_error = ?, updated_at = ?
		WHERE endpoint_id = ? AND state = 'pending'`), webhook.ReasonEndpointDisabled, clampNanos(now), id)
	return err
}

// isDisabled reports whether the endpoint is disabled, locking its row
// when lock is set; ErrNotFound if it does not exist.
func (s *Store) isDisabled(ctx context.Context, db querier, id string, lock bool) (bool, error) {
	query := `SELECT disabled FROM {p}endpoints WHERE id = ?`
	if lock {
		query += s.dia.forUpdate("")
	}
	var disabled int
	err := db.QueryRowContext(ctx, s.q(query), id).Scan(&disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return false, webhook.ErrNotFound
	}
	return disabled != 0, err
}

// EnableEndpoint implements webhook.Store.
func (s *Store) EnableEndpoint(ctx context.Context, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE {p}endpoints SET disabled = 0, disabled_reason = '', disabled_at = NULL,
		consecutive_failures = 0, updated_at = ? WHERE id = ?`), clampNanos(now), id)
	if err != nil {
		return fmt.Errorf("sqlstore: enable endpoint: %w", err)
	}
	return mustAffect(res, "enable endpoint")
}

// RotateSecret implements webhook.Store.
func (s *Store) RotateSecret(ctx context.Context, id string, next webhook.Secret, oldExpiresAt time.Time) error {
	stored, keyID, err := s.keys.seal(id, next.Value)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx querier) error {
		if _, err := s.isDisabled(ctx, tx, id, true); err != nil {
			return err
		}
		old := clampNanos(oldExpiresAt)
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}secrets SET expires_at = ?
			WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)`), old, id, old); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO {p}secrets (endpoint_id, seq, key_id, value, created_at, expires_at)
			VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM {p}secrets WHERE endpoint_id = ?), ?, ?, ?, ?)`),
			id, id, keyID, stored, clampNanos(next.CreatedAt), nanos(next.ExpiresAt))
		return err
	})
	if err != nil && !errors.Is(err, webhook.ErrNotFound) {
		return fmt.Errorf("sqlstore: rotate secret: %w", err)
	}
	return err
}

// activeSecrets returns the endpoint's own secrets that sign at now,
// newest first, decrypted.
func (s *Store) activeSecrets(ctx context.Context, db querier, endpointID string, now time.Time) ([]webhook.Secret, error) {
	rows, err := db.QueryContext(ctx, s.q(`SELECT key_id, value, created_at, expires_at FROM {p}secrets
		WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq DESC`), endpointID, clampNanos(now))
	if err != nil {
		return nil, err
	}
	return s.scanSecrets(rows, func(stored, keyID string) (string, error) { return s.keys.open(endpointID, stored, keyID) })
}

// signingSecrets returns the secrets that sign ep's deliveries at now,
// newest first: none for an unsigned endpoint, its tenant's for a
// TenantSecret endpoint, else its own.
func (s *Store) signingSecrets(ctx context.Context, db querier, ep *webhook.Endpoint, now time.Time) ([]webhook.Secret, error) {
	switch {
	case ep.Unsigned:
		return nil, nil
	case ep.TenantSecret:
		return s.tenantSecrets(ctx, db, ep.TenantID, now)
	}
	return s.activeSecrets(ctx, db, ep.ID, now)
}

// scanSecrets reads key_id, value, created_at, expires_at rows, decrypting
// each value with open, and closes rows.
func (s *Store) scanSecrets(rows *sql.Rows, open func(stored, keyID string) (string, error)) ([]webhook.Secret, error) {
	defer rows.Close()
	var out []webhook.Secret
	for rows.Next() {
		var (
			keyID, value string
			created      int64
			expires      sql.NullInt64
		)
		if err := rows.Scan(&keyID, &value, &created, &expires); err != nil {
			return nil, err
		}
		plain, err := open(value, keyID)
		if err != nil {
			return nil, &unreadableSecretError{err}
		}
		out = append(out, webhook.Secret{Value: plain, CreatedAt: time.Unix(0, created).UTC(), ExpiresAt: fromNanos(expires)})
	}
	return out, rows.Err()
}

// EndpointSecrets implements webhook.Store: the tenant's secrets for a
// TenantSecret endpoint, none for an unsigned one.
func (s *Store) EndpointSecrets(ctx context.Context, id string, now time.Time) ([]webhook.Secret, error) {
	ep := &webhook.Endpoint{ID: id}
	var signing string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT tenant_id, signing FROM {p}endpoints WHERE id = ?`), id).Scan(&ep.TenantID, &signing)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webhook.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: endpoint secrets: %w", err)
	}
	ep.Unsigned, ep.TenantSecret = signing == signingNone, signing == signingTenant
	sec, err := s.signingSecrets(ctx, s.db, ep, now)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: endpoint secrets: %w", err)
	}
	return sec, nil
}
