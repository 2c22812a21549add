package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/outhook/webhook/internal/uid"
)

// matchFunc is MatchEnqueuer.EnqueueMatching, or its InTx form bound to a
// transaction.
type matchFunc func(ctx context.Context, ev *StoredEvent, now time.Time) (int, error)

// match returns the Store's EnqueueMatching, nil if it has none.
func (d *Dispatcher) match() matchFunc {
	if m, ok := d.store.(MatchEnqueuer); ok {
		return m.EnqueueMatching
	}
	return nil
}

// inTxMatch returns the Store's EnqueueMatchingInTx bound to tx, nil if it
// has none.
func (d *Dispatcher) inTxMatch(tx Tx) matchFunc {
	m, ok := d.store.(InTxMatchEnqueuer)
	if !ok || tx == nil {
		return nil
	}
	return func(ctx context.Context, ev *StoredEvent, now time.Time) (int, error) {
		return m.EnqueueMatchingInTx(ctx, tx, ev, now)
	}
}

// fanOut writes ev with a delivery for each enabled, active endpoint of
// its tenant whose filter matches its type, and returns how many. With
// match, the Store picks the endpoints as it writes (one round trip on
// sqlstore); without it, or when the Store says ErrNotSupported, the
// endpoints are listed here and the deliveries handed to enqueue. Errors
// other than ErrDuplicateEvent come wrapped for Publish.
func (d *Dispatcher) fanOut(ctx context.Context, ev *StoredEvent, enqueue enqueueFunc, match matchFunc) (int, error) {
	now := d.cfg.Clock()
	if match != nil {
		n, err := match(ctx, ev, now)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, ErrDuplicateEvent):
			return 0, err
		case !errors.Is(err, ErrNotSupported):
			return 0, fmt.Errorf("webhook: publish: %w", err)
		}
	}
	endpoints, err := d.store.ListEndpoints(ctx, ev.TenantID)
	if err != nil {
		return 0, fmt.Errorf("webhook: publish: %w", err)
	}
	var deliveries []*Delivery
	for _, ep := range endpoints {
		if ep.Disabled || ep.Inactive || !MatchEvent(ep.Events, ev.Type) {
			continue
		}
		deliveries = append(deliveries, &Delivery{
			ID:            uid.New(),
			EventID:       ev.ID,
			EventType:     ev.Type,
			TenantID:      ev.TenantID,
			EndpointID:    ep.ID,
			State:         StatePending,
			NextAttemptAt: ev.DueAt(now),
			CreatedAt:     now,
			UpdatedAt:     now,
		})
	}
	switch err := enqueue(ctx, ev, deliveries); {
	case errors.Is(err, ErrDuplicateEvent):
		return 0, err
	case err != nil:
		return 0, fmt.Errorf("webhook: publish: %w", err)
	}
	return len(deliveries), nil
}
