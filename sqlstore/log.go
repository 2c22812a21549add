package sqlstore

// The delivery log: reading events, deliveries and attempts.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
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
	if err := s.fillBlockedBy(ctx, s.db, []*webhook.Delivery{d}); err != nil {
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
	rows.Close()
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(clampNanos(last.CreatedAt), last.ID)
	}
	if err := s.fillBlockedBy(ctx, s.db, out); err != nil {
		return nil, "", fmt.Errorf("sqlstore: list deliveries: %w", err)
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
