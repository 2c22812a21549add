package memstore

import (
	"context"

	webhook "github.com/outhook/webhook"
)

var _ webhook.Releaser = (*Store)(nil)

// Release implements webhook.Releaser: each listed delivery that is still
// pending under exactly the listed token loses its token and, if its lease
// has not expired, goes back from the heap of leases to its endpoint's
// due heap (for an Ordered endpoint, whose next delivery may then go), so
// Claim hands it out again at its own due time. Nothing else changes:
// Attempts, LastError and NextAttemptAt stay as they are. Others are left
// alone. It fails only when ctx is done, and then releases nothing.
func (s *Store) Release(ctx context.Context, leases []webhook.Lease) error {
	if len(leases) == 0 {
		return nil
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, l := range leases {
		dr := s.deliveries[l.DeliveryID]
		if dr == nil || dr.ep == nil || dr.token == "" || dr.token != l.Token || dr.d.State != webhook.StatePending {
			continue
		}
		dr.token = "" // a late Complete under it is ErrLeaseLost
		if dr.heap != &s.leased {
			continue // its lease expired already: it is due again
		}
		s.leased.remove(dr.index)
		delete(dr.ep.leased, dr.d.ID)
		dr.ep.pending.push(dr)
		s.fixReady(dr.ep) // after leased changed: an Ordered endpoint returns
	}
	return nil
}
