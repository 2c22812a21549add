package memstore

// Reading the delivery log: events, deliveries and their attempts.

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	webhook "github.com/outhook/webhook"
)

// Page sizes of ListDeliveries.
const (
	// DefaultPageSize is the page size when DeliveryFilter.Limit is 0.
	DefaultPageSize = 50
	// MaxPageSize is the largest page ListDeliveries returns.
	MaxPageSize = 1000
)

// GetEvent returns a copy of a stored event, its body included.
func (s *Store) GetEvent(ctx context.Context, id string) (*webhook.StoredEvent, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	er, ok := s.events[id]
	if !ok {
		return nil, notFound("event", id)
	}
	ev := er.ev
	ev.Body = slices.Clone(er.ev.Body)
	ev.Metadata = maps.Clone(er.ev.Metadata)
	return &ev, nil
}

// GetDelivery returns a copy of a delivery, or webhook.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (*webhook.Delivery, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	dr, ok := s.deliveries[id]
	if !ok {
		return nil, notFound("delivery", id)
	}
	d := dr.d
	d.BlockedBy = blockedBy(dr)
	return &d, nil
}

// blockedBy returns the ID of the delivery that dr waits for when dr is
// a pending delivery of an Ordered endpoint that Claim would not hand out
// before another (Delivery.BlockedBy): a leased one of the endpoint, or
// else its earliest pending one; "" otherwise.
func blockedBy(dr *deliveryRec) string {
	er := dr.ep
	if er == nil || !er.ep.Ordered || dr.d.State != webhook.StatePending || er.leased[dr.d.ID] != nil {
		return ""
	}
	var first *deliveryRec
	for _, l := range er.leased {
		if first == nil || l.seq < first.seq {
			first = l
		}
	}
	if first == nil {
		first = er.pending.peek() // ordered by sequence
	}
	if first == nil || first == dr {
		return ""
	}
	return first.d.ID
}

// ListDeliveries returns copies of the deliveries matching f, newest first
// (CreatedAt descending, then ID descending), at most f.Limit of them (0:
// DefaultPageSize; capped at MaxPageSize), and the cursor of the next page,
// "" when this is the last. A cursor that this Store did not produce is
// rejected with webhook.ErrInvalid.
func (s *Store) ListDeliveries(ctx context.Context, f webhook.DeliveryFilter) ([]*webhook.Delivery, string, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultPageSize
	case limit > MaxPageSize:
		limit = MaxPageSize
	}
	var after *cursor
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = &c
	}
	if err := s.lock(ctx); err != nil {
		return nil, "", err
	}
	defer s.mu.Unlock()

	var matched []*deliveryRec
	keep := func(dr *deliveryRec) {
		d := &dr.d
		if (f.EndpointID != "" && d.EndpointID != f.EndpointID) ||
			(f.EventID != "" && d.EventID != f.EventID) ||
			(f.TenantID != "" && d.TenantID != f.TenantID) ||
			(f.EventType != "" && d.EventType != f.EventType) ||
			(f.State != "" && d.State != f.State) ||
			(!f.Since.IsZero() && d.CreatedAt.Before(f.Since)) ||
			(!f.Until.IsZero() && !d.CreatedAt.Before(f.Until)) ||
			(after != nil && !after.before(d)) {
			return
		}
		matched = append(matched, dr)
	}
	switch {
	case f.EventID != "":
		if ev := s.events[f.EventID]; ev != nil {
			for _, dr := range ev.deliveries {
				keep(dr)
			}
		}
	case f.EndpointID != "" && s.endpoints[f.EndpointID] != nil:
		for dr := s.endpoints[f.EndpointID].deliveries; dr != nil; dr = dr.epNext {
			keep(dr)
		}
	default:
		for _, dr := range s.deliveries {
			keep(dr)
		}
	}
	slices.SortFunc(matched, func(a, b *deliveryRec) int {
		if c := b.d.CreatedAt.Compare(a.d.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.d.ID, a.d.ID)
	})
	next := ""
	if len(matched) > limit {
		matched = matched[:limit]
		last := &matched[limit-1].d
		next = cursor{at: last.CreatedAt, id: last.ID}.encode()
	}
	page := make([]*webhook.Delivery, len(matched))
	for i, dr := range matched {
		d := dr.d
		d.BlockedBy = blockedBy(dr)
		page[i] = &d
	}
	return page, next, nil
}

// cursor is the position after which the next page of ListDeliveries
// starts: the CreatedAt and ID of the last delivery of the previous page.
type cursor struct {
	at time.Time
	id string
}

// before reports whether d comes after the cursor in newest-first order.
func (c cursor) before(d *webhook.Delivery) bool {
	if cmp := d.CreatedAt.Compare(c.at); cmp != 0 {
		return cmp < 0
	}
	return d.ID < c.id
}

const cursorVersion = "m1"

func (c cursor) encode() string {
	raw := fmt.Sprintf("%s:%d:%d:%s", cursorVersion, c.at.Unix(), c.at.Nanosecond(), c.id)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (cursor, error) {
	bad := invalid("DeliveryFilter.Cursor %q was not returned by ListDeliveries", s)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	parts := strings.SplitN(string(raw), ":", 4)
	if len(parts) != 4 || parts[0] != cursorVersion {
		return cursor{}, bad
	}
	sec, err1 := strconv.ParseInt(parts[1], 10, 64)
	nsec, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || nsec < 0 || nsec >= int64(time.Second) {
		return cursor{}, bad
	}
	return cursor{at: time.Unix(sec, nsec), id: parts[3]}, nil
}

// ListAttempts returns copies of the attempts of a delivery in the order
// they were recorded, oldest first; webhook.ErrNotFound if there is no such
// delivery.
func (s *Store) ListAttempts(ctx context.Context, deliveryID string) ([]*webhook.Attempt, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	dr, ok := s.deliveries[deliveryID]
	if !ok {
		return nil, notFound("delivery", deliveryID)
	}
	out := make([]*webhook.Attempt, len(dr.attempts))
	for i, a := range dr.attempts {
		c := *a
		out[i] = &c
	}
	return out, nil
}
