package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/outhook/webhook/internal/owned"
	"github.com/outhook/webhook/internal/uid"
)

// MaxEventIDLen is the longest Event.ID accepted.
const MaxEventIDLen = 255

// Publish validates ev, builds its body once, and queues one delivery for
// every enabled, active endpoint of ev.TenantID whose filter matches
// ev.Type (an Inactive or Disabled endpoint gets none). It
// returns ev with ID and CreatedAt filled in, without waiting for any HTTP
// request.
//
// Publishing an event whose ID already exists creates no new deliveries and
// is not an error: retrying Publish with the same ID is safe, and returns
// the first call's CreatedAt. If that ID belongs to an event of another
// tenant or type, Publish returns an error wrapping ErrDuplicateEvent. Event
// IDs are global across tenants: prefix your own with the tenant if they
// may collide. A Store with retention (sqlstore) forgets an event when it
// prunes it; the same ID published after that is a new event. Invalid input
// returns a *ValidationError, ErrUnknownEventType or ErrPayloadTooLarge,
// and nothing is stored.
func (d *Dispatcher) Publish(ctx context.Context, ev Event) (Event, error) {
	return d.publish(ctx, ev, d.store.Enqueue, d.match(), true)
}

// PublishTx is Publish inside the application's own transaction (the
// transactional outbox): the event and its deliveries are written with tx,
// invisible until it commits and gone if it rolls back. The Store must
// implement TxEnqueuer (sqlstore does) or InTxEnqueuer; otherwise it
// returns ErrNotSupported. With an InTxMatchEnqueuer (sqlstore on SQLite,
// or on PostgreSQL 13 or newer) the endpoints are read inside tx, with the
// writes (on PostgreSQL in the same statement); otherwise they are read
// outside tx, on another connection, and a pool limited to one connection
// (SetMaxOpenConns(1)) would deadlock. For a transaction of another driver (pgx), use
// PublishInTx.
func (d *Dispatcher) PublishTx(ctx context.Context, tx *sql.Tx, ev Event) (Event, error) {
	txs, ok := d.store.(TxEnqueuer)
	if !ok {
		if _, ok := d.store.(InTxEnqueuer); !ok {
			return Event{}, fmt.Errorf("%w: PublishTx needs a Store with EnqueueTx (sqlstore)", ErrNotSupported)
		}
	}
	if tx == nil {
		return Event{}, invalid("tx", "is nil")
	}
	if !ok {
		return d.PublishInTx(ctx, WrapSQLTx(tx), ev)
	}
	// No wake-up here: nothing is visible before tx commits. The Store's
	// Notifier (NOTIFY at commit) or the next poll starts the delivery.
	return d.publish(ctx, ev, func(ctx context.Context, se *StoredEvent, ds []*Delivery) error {
		return txs.EnqueueTx(ctx, tx, se, ds)
	}, d.inTxMatch(WrapSQLTx(tx)), false)
}

// PublishInTx is PublishTx for a transaction of any driver, given as a Tx:
// pgxtx.Wrap(tx) for a pgx.Tx (from a pgx.Conn or pgxpool.Pool),
// WrapSQLTx for database/sql and what wraps it (ent). The event and its
// deliveries are written with tx, invisible until it commits and gone if
// it rolls back. tx must be on the Store's database, and be the very
// transaction that writes the application's rows: a second transaction
// opened for the webhook (on a *sql.DB made from the same pgxpool with
// stdlib.OpenDBFromPool, say) commits on its own and breaks the outbox.
//
// The Store must implement InTxEnqueuer (sqlstore does), or TxEnqueuer
// when tx is WrapSQLTx of a *sql.Tx; otherwise it returns ErrNotSupported.
// A nil tx, or WrapSQLTx of a *sql.DB, is a *ValidationError. Endpoints
// are read as in PublishTx: inside tx with an InTxMatchEnqueuer, otherwise
// outside tx, on another connection of the Store.
func (d *Dispatcher) PublishInTx(ctx context.Context, tx Tx, ev Event) (Event, error) {
	enqueue, ok := d.inTxEnqueue(tx)
	if !ok {
		return Event{}, fmt.Errorf("%w: PublishInTx needs a Store with EnqueueInTx (sqlstore)", ErrNotSupported)
	}
	if err := checkTx(tx); err != nil {
		return Event{}, err
	}
	// No wake-up, as in PublishTx.
	return d.publish(ctx, ev, enqueue, d.inTxMatch(tx), false)
}

// inTxEnqueue returns how the Store enqueues inside tx, if it can.
func (d *Dispatcher) inTxEnqueue(tx Tx) (enqueueFunc, bool) {
	if s, ok := d.store.(InTxEnqueuer); ok {
		return func(ctx context.Context, se *StoredEvent, ds []*Delivery) error {
			return s.EnqueueInTx(ctx, tx, se, ds)
		}, true
	}
	s, ok := d.store.(TxEnqueuer)
	if !ok {
		return nil, false
	}
	if tx == nil {
		// checkTx reports it.
		return nil, true
	}
	st, ok := unwrapSQLTx(tx)
	if !ok {
		return nil, false
	}
	return func(ctx context.Context, se *StoredEvent, ds []*Delivery) error {
		return s.EnqueueTx(ctx, st, se, ds)
	}, true
}

type enqueueFunc func(context.Context, *StoredEvent, []*Delivery) error

// publish validates, fans out and enqueues ev, with match when the Store
// can pick the endpoints itself (nil otherwise); wake says whether the
// deliveries are visible at once, so workers should look for them now.
func (d *Dispatcher) publish(ctx context.Context, ev Event, enqueue enqueueFunc, match matchFunc, wake bool) (Event, error) {
	stored, err := d.prepare(&ev)
	if err != nil {
		return Event{}, err
	}
	if stored.Metadata, err = d.eventMetadata(ctx); err != nil {
		return Event{}, err
	}
	fctx := ctx
	if d.givesBodies {
		fctx = owned.Give(ctx, stored.Body) // the body is not used again here
	}
	n, err := d.fanOut(fctx, stored, enqueue, match)
	switch {
	case errors.Is(err, ErrDuplicateEvent):
		return d.duplicate(ctx, ev, err)
	case err != nil:
		return Event{}, err
	}
	if wake && n > 0 {
		d.wake()
	}
	return ev, nil
}

// duplicate answers a Publish whose event ID exists: the same event again
// is a safe retry and returns the stored event; another tenant's or type's
// event under that ID is a collision the caller must hear about.
func (d *Dispatcher) duplicate(ctx context.Context, ev Event, dupErr error) (Event, error) {
	var dup *DuplicateEventError
	var prev *StoredEvent
	if errors.As(dupErr, &dup) && dup.Existing != nil {
		prev = dup.Existing
	} else {
		var err error
		if prev, err = d.store.GetEvent(ctx, ev.ID); err != nil {
			return Event{}, fmt.Errorf("webhook: publish: reading the event already stored under %q: %w", ev.ID, err)
		}
	}
	if prev.TenantID != ev.TenantID || prev.Type != ev.Type {
		return Event{}, fmt.Errorf("%w: %q is already the ID of a %s event of tenant %q; use another ID", ErrDuplicateEvent, ev.ID, prev.Type, prev.TenantID)
	}
	d.log.DebugContext(ctx, "webhook: duplicate event ignored", "event", ev.ID)
	ev.CreatedAt = prev.CreatedAt
	return ev, nil
}

// prepare validates ev, fills its ID and CreatedAt, and marshals the body.
func (d *Dispatcher) prepare(ev *Event) (*StoredEvent, error) {
	if err := d.rules.catalogue.checkType(ev.Type); err != nil {
		return nil, err
	}
	if err := checkTenantID(ev.TenantID); err != nil {
		return nil, err
	}
	if ev.ID == "" {
		ev.ID = uid.New()
	} else if !validEventID(ev.ID) {
		return nil, invalid("ID", "use 1 to %d printable ASCII characters without spaces (it is sent as a header)", MaxEventIDLen)
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = d.cfg.Clock()
	} else if ev.CreatedAt.Before(minEventTime) || !ev.CreatedAt.Before(maxTime) {
		return nil, invalid("CreatedAt", "%s is out of range: use a time from 1970-01-01 to before 2262-01-01 UTC, or zero for now", ev.CreatedAt.UTC().Format(time.RFC3339))
	}
	// Microseconds: what every SQL store keeps, so the time read back is
	// the time in the body.
	ev.CreatedAt = ev.CreatedAt.UTC().Truncate(time.Microsecond)
	if !ev.DeliverAt.IsZero() && (ev.DeliverAt.Before(minEventTime) || !ev.DeliverAt.Before(maxTime)) {
		return nil, invalid("DeliverAt", "%s is out of range: use a time from 1970-01-01 to before 2262-01-01 UTC, or zero for at once", ev.DeliverAt.UTC().Format(time.RFC3339))
	}
	body, err := d.cfg.Envelope(*ev)
	if err != nil {
		return nil, invalid("Data", "the envelope does not marshal: %v", err)
	}
	if len(body) > d.cfg.MaxPayloadBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d (Config.MaxPayloadBytes)", ErrPayloadTooLarge, len(body), d.cfg.MaxPayloadBytes)
	}
	return &StoredEvent{ID: ev.ID, Type: ev.Type, TenantID: ev.TenantID, CreatedAt: ev.CreatedAt, Body: body, DeliverAt: ev.DeliverAt}, nil
}

func validEventID(id string) bool {
	if len(id) == 0 || len(id) > MaxEventIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}
