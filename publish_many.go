package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/outhook/webhook/internal/uid"
)

// PublishMany is Publish for a batch (imports, backfills): it validates
// every event first, and if any is invalid returns a *BatchError naming
// its index and stores nothing. It then reads each distinct tenant's
// endpoints once, and stores all the events and their deliveries. It
// returns the events with ID and CreatedAt filled in, in the order given.
//
// With a Store that implements ManyEnqueuer (memstore, sqlstore: multi-row
// INSERTs in one transaction) the batch is one atomic step. Event IDs that
// are already stored with the same tenant and type are safe retries, as
// with Publish: they create nothing, and their Event comes back with the
// stored CreatedAt. An ID given twice in the batch is the same: the second
// is a retry of the first, or, with another tenant or type, a *BatchError
// wrapping ErrDuplicateEvent. An ID already stored as an event of another
// tenant or type fails the whole batch, nothing stored, with an
// *EventClashError listing every such ID (errors.Is(err,
// ErrDuplicateEvent) holds).
//
// A Store without ManyEnqueuer gets one Enqueue per event: then a clash,
// or any other error, stops the batch with the events before it stored.
func (d *Dispatcher) PublishMany(ctx context.Context, events []Event) ([]Event, error) {
	b, err := d.prepareBatch(ctx, events)
	if err != nil {
		return nil, err
	}
	var enqueueMany func(context.Context, []*StoredEvent, [][]*Delivery) ([]*StoredEvent, error)
	if s, ok := d.store.(ManyEnqueuer); ok {
		enqueueMany = s.EnqueueMany
	}
	out, err := d.storeBatch(ctx, b, enqueueMany, d.store.Enqueue)
	if err != nil {
		return nil, err
	}
	if b.deliveries > 0 {
		d.wake()
	}
	return out, nil
}

// PublishManyTx is PublishMany inside the application's own transaction
// (the transactional outbox, as PublishTx): PublishManyInTx with
// WrapSQLTx(tx).
func (d *Dispatcher) PublishManyTx(ctx context.Context, tx *sql.Tx, events []Event) ([]Event, error) {
	if tx == nil {
		return nil, invalid("tx", "is nil")
	}
	return d.PublishManyInTx(ctx, WrapSQLTx(tx), events)
}

// PublishManyInTx is PublishMany inside the application's own transaction,
// of any driver (see PublishInTx): the events and their deliveries are
// written with tx, invisible until it commits and gone if it rolls back.
// The Store must implement InTxManyEnqueuer (sqlstore does), or else
// InTxEnqueuer or TxEnqueuer, which get one call per event; otherwise it
// returns ErrNotSupported. Endpoints are read outside tx, on another
// connection of the Store. On any error, roll tx back: part of the batch
// may have been written in it.
func (d *Dispatcher) PublishManyInTx(ctx context.Context, tx Tx, events []Event) ([]Event, error) {
	var enqueueMany func(context.Context, []*StoredEvent, [][]*Delivery) ([]*StoredEvent, error)
	if s, ok := d.store.(InTxManyEnqueuer); ok {
		enqueueMany = func(ctx context.Context, evs []*StoredEvent, ds [][]*Delivery) ([]*StoredEvent, error) {
			return s.EnqueueManyInTx(ctx, tx, evs, ds)
		}
	}
	enqueue, ok := d.inTxEnqueue(tx)
	if !ok && enqueueMany == nil {
		return nil, fmt.Errorf("%w: PublishManyInTx needs a Store with EnqueueManyInTx or EnqueueInTx (sqlstore)", ErrNotSupported)
	}
	if err := checkTx(tx); err != nil {
		return nil, err
	}
	b, err := d.prepareBatch(ctx, events)
	if err != nil {
		return nil, err
	}
	// No wake-up: nothing is visible before tx commits.
	return d.storeBatch(ctx, b, enqueueMany, enqueue)
}

// batch is a validated batch: out are the events as returned, and the
// Store gets stored[k] with deliveries ds[k], the event out[index[k]].
// sameAs[i] >= 0 marks out[i] as a repeat of out[sameAs[i]] in the batch.
type batch struct {
	out        []Event
	stored     []*StoredEvent
	ds         [][]*Delivery
	index      []int
	sameAs     []int
	deliveries int
}

// prepareBatch validates every event, then fans each out to its tenant's
// endpoints, read once per tenant.
func (d *Dispatcher) prepareBatch(ctx context.Context, events []Event) (*batch, error) {
	b := &batch{out: make([]Event, len(events)), sameAs: make([]int, len(events))}
	md, err := d.eventMetadata(ctx)
	if err != nil {
		return nil, err
	}
	first := make(map[string]int, len(events))
	for i := range events {
		ev := events[i]
		b.sameAs[i] = -1
		se, err := d.prepare(&ev)
		if err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
		b.out[i] = ev
		if j, ok := first[ev.ID]; ok {
			prev := b.out[j]
			if prev.TenantID != ev.TenantID || prev.Type != ev.Type {
				return nil, &BatchError{Index: i, Err: fmt.Errorf("%w: %q is the ID of event %d of the batch, a %s event of tenant %q; use another ID",
					ErrDuplicateEvent, ev.ID, j, prev.Type, prev.TenantID)}
			}
			b.sameAs[i] = j
			continue
		}
		first[ev.ID] = i
		se.Metadata = md
		b.stored = append(b.stored, se)
		b.index = append(b.index, i)
	}
	endpoints := make(map[string][]*Endpoint)
	now := d.cfg.Clock()
	b.ds = make([][]*Delivery, len(b.stored))
	for k, se := range b.stored {
		eps, ok := endpoints[se.TenantID]
		if !ok {
			if eps, err = d.store.ListEndpoints(ctx, se.TenantID); err != nil {
				return nil, fmt.Errorf("webhook: publish: %w", err)
			}
			endpoints[se.TenantID] = eps
		}
		for _, ep := range eps {
			if ep.Disabled || ep.Inactive || !MatchEvent(ep.Events, se.Type) {
				continue
			}
			b.ds[k] = append(b.ds[k], &Delivery{
				ID:            uid.New(),
				EventID:       se.ID,
				EventType:     se.Type,
				TenantID:      se.TenantID,
				EndpointID:    ep.ID,
				State:         StatePending,
				NextAttemptAt: se.DueAt(now),
				CreatedAt:     now,
				UpdatedAt:     now,
			})
			b.deliveries++
		}
	}
	return b, nil
}

// storeBatch writes b with enqueueMany, or with one enqueue per event when
// it is nil, and returns the events as PublishMany does.
func (d *Dispatcher) storeBatch(ctx context.Context, b *batch,
	enqueueMany func(context.Context, []*StoredEvent, [][]*Delivery) ([]*StoredEvent, error), enqueue enqueueFunc) ([]Event, error) {
	if enqueueMany != nil {
		existing, err := enqueueMany(ctx, b.stored, b.ds)
		if err != nil {
			if errors.Is(err, ErrDuplicateEvent) {
				return nil, err
			}
			return nil, fmt.Errorf("webhook: publish many: %w", err)
		}
		for k, prev := range existing {
			if prev != nil {
				d.log.DebugContext(ctx, "webhook: duplicate event ignored", "event", prev.ID)
				b.out[b.index[k]].CreatedAt = prev.CreatedAt
			}
		}
	} else {
		for k, se := range b.stored {
			i := b.index[k]
			switch err := enqueue(ctx, se, b.ds[k]); {
			case errors.Is(err, ErrDuplicateEvent):
				ev, err := d.duplicate(ctx, b.out[i], err)
				if err != nil {
					return nil, &BatchError{Index: i, Err: err}
				}
				b.out[i] = ev
			case err != nil:
				return nil, fmt.Errorf("webhook: publish many: event %d: %w", i, err)
			}
		}
	}
	for i, j := range b.sameAs {
		if j >= 0 {
			b.out[i].CreatedAt = b.out[j].CreatedAt
		}
	}
	return b.out, nil
}
