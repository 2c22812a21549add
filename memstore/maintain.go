package memstore

import (
	"container/heap"
	"context"
	"slices"
	"time"

	webhook "github.com/outhook/webhook"
)

// maxPruneBatches bounds the work of one Prune call, as in sqlstore; the
// next call goes on where it stopped.
const maxPruneBatches = 200

// Maintain implements webhook.Maintainer as sqlstore does: it deletes the
// deliveries that ended (succeeded or failed) more than Options.Retention
// before now, with their attempts, then the events created more than
// Retention before now that have no delivery left, with their bodies, and
// the secrets, endpoints' and tenants', whose grace period is over
// (ExpiresAt at or before now). Each
// batch of Options.PruneBatch deliveries or events holds the Store's lock
// on its own, so workers and publishers go on meanwhile. With a negative
// Retention it does nothing.
func (s *Store) Maintain(ctx context.Context, now time.Time) error {
	if s.opts.Retention < 0 {
		return nil
	}
	if _, err := s.Prune(ctx, now.Add(-s.opts.Retention)); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for er := range s.expiring {
		er.secrets = slices.DeleteFunc(er.secrets, func(sec webhook.Secret) bool { return !sec.Active(now) })
		s.trackExpiry(er)
	}
	for tenant := range s.tenantExpiring {
		kept := slices.DeleteFunc(s.tenantSecrets[tenant], func(sec webhook.Secret) bool { return !sec.Active(now) })
		if len(kept) == 0 {
			delete(s.tenantSecrets, tenant)
		} else {
			s.tenantSecrets[tenant] = kept
		}
		s.trackTenantExpiry(tenant)
	}
	return nil
}

// Prune deletes the ended deliveries last updated before cutoff, with
// their attempts, and the events created before cutoff that have no
// delivery left, with their bodies, in batches of Options.PruneBatch, each
// under its own hold of the lock; at most 200 batches of each per call,
// as in sqlstore. It returns how many deliveries it deleted. Maintain calls
// it with now minus Options.Retention. Pending deliveries, leased or not,
// are never deleted, nor their events.
func (s *Store) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for i := 0; i < maxPruneBatches; i++ {
		if err := s.lock(ctx); err != nil {
			return total, err
		}
		n := s.pruneDeliveries(cutoff, s.opts.PruneBatch)
		s.mu.Unlock()
		total += n
		if n < s.opts.PruneBatch {
			break
		}
	}
	for i := 0; i < maxPruneBatches; i++ {
		if err := s.lock(ctx); err != nil {
			return total, err
		}
		n := s.pruneEvents(cutoff, s.opts.PruneBatch)
		s.mu.Unlock()
		if n < s.opts.PruneBatch {
			break
		}
	}
	return total, nil
}

// pruneDeliveries deletes up to limit ended deliveries last updated before
// cutoff, oldest first, and returns how many it deleted. Events it leaves
// without deliveries go to s.empty. The lock must be held.
func (s *Store) pruneDeliveries(cutoff time.Time, limit int) int {
	gone := make(map[*deliveryRec]bool)
	for len(gone) < limit {
		dr := s.ended.peek()
		if dr == nil || !dr.d.UpdatedAt.Before(cutoff) {
			break
		}
		s.ended.pop()
		gone[dr] = true
		delete(s.deliveries, dr.d.ID)
		if dr.ep != nil {
			dr.ep.unlink(dr)
		}
	}
	touched := make(map[*eventRec]bool)
	for dr := range gone {
		touched[dr.ev] = true
	}
	for ev := range touched {
		ev.deliveries = slices.DeleteFunc(ev.deliveries, func(dr *deliveryRec) bool { return gone[dr] })
		if len(ev.deliveries) == 0 {
			heap.Push(&s.empty, ev)
		}
	}
	return len(gone)
}

// pruneEvents deletes up to limit events without deliveries created before
// cutoff, oldest first, and returns how many it deleted. The lock must be
// held.
func (s *Store) pruneEvents(cutoff time.Time, limit int) int {
	n := 0
	for n < limit {
		ev := s.empty.peek()
		if ev == nil || !ev.ev.CreatedAt.Before(cutoff) {
			break
		}
		heap.Pop(&s.empty)
		delete(s.events, ev.ev.ID)
		n++
	}
	return n
}
