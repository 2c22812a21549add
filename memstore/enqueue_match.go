package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/internal/owned"
	"github.com/outhook/webhook/internal/uid"
)

// EnqueueMatching implements webhook.MatchEnqueuer: it stores ev and a
// pending delivery for each endpoint of ev.TenantID that is neither
// disabled nor inactive and whose Events match ev.Type, under one hold of
// the lock, and returns how many deliveries it stored. The deliveries are
// made in the order ListEndpoints returns the endpoints. A duplicate event
// ID stores nothing and returns webhook.ErrDuplicateEvent, as Enqueue does.
func (s *Store) EnqueueMatching(ctx context.Context, ev *webhook.StoredEvent, now time.Time) (int, error) {
	if ev == nil || ev.ID == "" {
		return 0, invalid("event without an ID")
	}
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	return s.matchLocked(ev, now, owned.Given(ctx, ev.Body))
}

// matchLocked is EnqueueMatching with s.mu held; given says ev.Body is
// the Store's to keep (see insertEachLocked).
func (s *Store) matchLocked(ev *webhook.StoredEvent, now time.Time, given bool) (int, error) {
	if _, ok := s.events[ev.ID]; ok {
		return 0, fmt.Errorf("memstore: event %q: %w", ev.ID, webhook.ErrDuplicateEvent)
	}
	var buf [4]*endpointRec // the usual few, on the stack
	recs := buf[:0]
	for _, er := range s.tenants[ev.TenantID] {
		if !er.ep.Disabled && !er.ep.Inactive && webhook.MatchEvent(er.ep.Events, ev.Type) {
			recs = append(recs, er)
		}
	}
	slices.SortFunc(recs, func(a, b *endpointRec) int {
		if c := a.ep.CreatedAt.Compare(b.ep.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	due := ev.DueAt(now)
	s.insertEachLocked(ev, given, len(recs), func(i int, d *webhook.Delivery) {
		*d = webhook.Delivery{
			ID:            uid.New(),
			EventID:       ev.ID,
			EventType:     ev.Type,
			TenantID:      ev.TenantID,
			EndpointID:    recs[i].ep.ID,
			State:         webhook.StatePending,
			NextAttemptAt: due,
			CreatedAt:     now,
			UpdatedAt:     now,
		}
	})
	return len(recs), nil
}
