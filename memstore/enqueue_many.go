package memstore

import (
	"context"

	webhook "github.com/outhook/webhook"
)

var _ webhook.ManyEnqueuer = (*Store)(nil)

// EnqueueMany implements webhook.ManyEnqueuer: the whole batch under one
// hold of the Store's lock. Events whose ID is stored with the same tenant
// and type are skipped and returned in existing; one of another tenant or
// type fails the batch with a *webhook.EventClashError, nothing stored. An
// event without an ID, an ID twice in the batch, or a delivery ID that is
// empty, repeated or stored already is rejected with webhook.ErrInvalid,
// nothing stored.
func (s *Store) EnqueueMany(ctx context.Context, events []*webhook.StoredEvent, deliveries [][]*webhook.Delivery) ([]*webhook.StoredEvent, error) {
	if len(deliveries) != len(events) {
		return nil, invalid("%d events but %d delivery lists", len(events), len(deliveries))
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var existing []*webhook.StoredEvent
	ids := make(map[string]bool, len(events))
	seen := make(map[string]bool)
	for i, ev := range events {
		if ev == nil || ev.ID == "" {
			return nil, invalid("event %d without an ID", i)
		}
		if ids[ev.ID] {
			return nil, invalid("event %q twice in the batch", ev.ID)
		}
		ids[ev.ID] = true
		if er, ok := s.events[ev.ID]; ok {
			if existing == nil {
				existing = make([]*webhook.StoredEvent, len(events))
			}
			existing[i] = &webhook.StoredEvent{ID: er.ev.ID, Type: er.ev.Type, TenantID: er.ev.TenantID, CreatedAt: er.ev.CreatedAt}
			continue
		}
		for _, d := range deliveries[i] {
			if d == nil || d.ID == "" {
				return nil, invalid("delivery without an ID")
			}
			if _, ok := s.deliveries[d.ID]; ok || seen[d.ID] {
				return nil, invalid("delivery %q already exists", d.ID)
			}
			seen[d.ID] = true
		}
	}
	if existing != nil {
		if err := webhook.ClashesOf(events, existing); err != nil {
			return nil, err
		}
	}
	for i, ev := range events {
		if existing == nil || existing[i] == nil {
			s.insertLocked(ev, false, deliveries[i])
		}
	}
	return existing, nil
}
