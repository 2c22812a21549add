package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// optional returns a fixture whose store implements the ability A,
// failing the test if it does not.
func optional[A any](t *testing.T, newStore newStoreFunc, name string) (*fixture, A) {
	t.Helper()
	f := setup(t, newStore)
	a, ok := f.s.(A)
	require.Truef(t, ok, "the Suite tests %s, but %T does not implement it", name, f.s)
	return f, a
}

// TxEnqueuer tests EnqueueTx inside transactions begun with Suite.BeginTx.
func (s Suite) TxEnqueuer(t *testing.T) {
	require.NotNil(t, s.BeginTx, "Suite.BeginTx is required to test TxEnqueuer")
	testOutbox(t, s.newStore(), "TxEnqueuer", func(f *fixture) (appTx, error) {
		tx, err := s.BeginTx(f.ctx, f.s)
		if err != nil {
			return appTx{}, err
		}
		txe, ok := f.s.(webhook.TxEnqueuer)
		require.Truef(t, ok, "the Suite tests TxEnqueuer, but %T does not implement it", f.s)
		return appTx{
			enqueue: func(ev *webhook.StoredEvent, ds []*webhook.Delivery) error {
				return txe.EnqueueTx(f.ctx, tx, ev, ds)
			},
			commit:   func() error { return tx.Commit() },
			rollback: func() error { return tx.Rollback() },
		}, nil
	})
}

// AppTx is an application's transaction for the InTxEnqueuer tests: the
// webhook.Tx the Store writes through, and how the test ends it.
type AppTx struct {
	Tx       webhook.Tx
	Commit   func(ctx context.Context) error
	Rollback func(ctx context.Context) error
}

// InTxEnqueuer tests EnqueueInTx inside transactions begun with
// Suite.BeginAppTx, or with Suite.BeginTx wrapped by webhook.WrapSQLTx.
func (s Suite) InTxEnqueuer(t *testing.T) {
	begin := s.BeginAppTx
	if begin == nil {
		require.NotNil(t, s.BeginTx, "Suite.BeginAppTx or BeginTx is required to test InTxEnqueuer")
		begin = func(ctx context.Context, st webhook.Store) (AppTx, error) {
			tx, err := s.BeginTx(ctx, st)
			if err != nil {
				return AppTx{}, err
			}
			return AppTx{
				Tx:       webhook.WrapSQLTx(tx),
				Commit:   func(context.Context) error { return tx.Commit() },
				Rollback: func(context.Context) error { return tx.Rollback() },
			}, nil
		}
	}
	testOutbox(t, s.newStore(), "InTxEnqueuer", func(f *fixture) (appTx, error) {
		tx, err := begin(f.ctx, f.s)
		if err != nil {
			return appTx{}, err
		}
		txe, ok := f.s.(webhook.InTxEnqueuer)
		require.Truef(t, ok, "the Suite tests InTxEnqueuer, but %T does not implement it", f.s)
		return appTx{
			enqueue: func(ev *webhook.StoredEvent, ds []*webhook.Delivery) error {
				return txe.EnqueueInTx(f.ctx, tx.Tx, ev, ds)
			},
			commit:   func() error { return tx.Commit(f.ctx) },
			rollback: func() error { return tx.Rollback(f.ctx) },
		}, nil
	})
}

// appTx is one transaction of the outbox tests, whichever ability writes
// in it.
type appTx struct {
	enqueue  func(ev *webhook.StoredEvent, ds []*webhook.Delivery) error
	commit   func() error
	rollback func() error
}

// testOutbox tests an ability that enqueues inside the application's
// transaction, begun by begin.
func testOutbox(t *testing.T, newStore newStoreFunc, name string, begin func(f *fixture) (appTx, error)) {
	t.Run("what a rolled-back transaction enqueued never existed", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev := f.newEvent(base)
		tx, err := begin(f)
		require.NoError(t, err)
		require.NoError(t, tx.enqueue(ev, []*webhook.Delivery{newDelivery(ev, ep, base)}), name)
		require.NoError(t, tx.rollback())
		_, err = f.s.GetEvent(f.ctx, ev.ID)
		require.ErrorIs(t, err, webhook.ErrNotFound)
		assert.Empty(t, f.claim(at(time.Minute), 10))
	})

	t.Run("a committed transaction's deliveries are claimed with the body and metadata", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev := f.newEvent(base)
		ev.Metadata = map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
		d := newDelivery(ev, ep, base)
		tx, err := begin(f)
		require.NoError(t, err)
		require.NoError(t, tx.enqueue(ev, []*webhook.Delivery{d}), name)
		require.NoError(t, tx.commit())
		c := f.claimOne(base, d.ID)
		assert.Equal(t, string(ev.Body), string(c.Body))
		assert.Equal(t, ev.Metadata, c.Metadata)
	})

	t.Run("a duplicate ID in the same transaction writes nothing and leaves it usable", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev := f.newEvent(base)
		first := newDelivery(ev, ep, base)
		tx, err := begin(f)
		require.NoError(t, err)
		require.NoError(t, tx.enqueue(ev, []*webhook.Delivery{first}), name)
		again := *ev
		again.Type = "post.updated"
		err = tx.enqueue(&again, []*webhook.Delivery{newDelivery(ev, ep, base)})
		require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
		var dup *webhook.DuplicateEventError
		if errors.As(err, &dup) && dup.Existing != nil {
			assert.Equal(t, "post.created", dup.Existing.Type, "the DuplicateEventError holds the event as the transaction sees it")
		}
		require.NoError(t, tx.commit(), "the transaction survives the duplicate")
		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, "post.created", got.Type)
		assert.Equal(t, []string{first.ID}, deliveryIDs(f.claim(base, 10)))
	})

	t.Run("many deliveries in one transaction, over several statements", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev := f.newEvent(base)
		var ds []*webhook.Delivery
		for i := 0; i < 450; i++ {
			ds = append(ds, newDelivery(ev, ep, base))
		}
		tx, err := begin(f)
		require.NoError(t, err)
		require.NoError(t, tx.enqueue(ev, ds), name)
		require.NoError(t, tx.commit())
		assert.Len(t, f.claim(base, 1000), len(ds))
	})
}

// Notifier tests Listen: it wakes while deliveries are being written and
// returns once its context ends. It uses the wall clock, with generous
// bounds (20 s to wake, 10 s to return).
func (s Suite) Notifier(t *testing.T) {
	newStore := s.newStore()
	t.Run("Listen wakes for enqueued deliveries and returns when its context ends", func(t *testing.T) {
		f, n := optional[webhook.Notifier](t, newStore, "Notifier")
		ep := f.createEndpoint()
		ctx, cancel := context.WithCancel(f.ctx)
		defer cancel()
		var wakes atomic.Int64
		woke := make(chan struct{}, 1)
		done := make(chan error, 1)
		go func() {
			done <- n.Listen(ctx, func() {
				wakes.Add(1)
				select {
				case woke <- struct{}{}:
				default:
				}
			})
		}()
		// The listener may start after the first writes: keep writing
		// until it wakes.
		deadline := time.After(20 * time.Second)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
	wait:
		for i := 0; ; i++ {
			select {
			case <-woke:
				break wait
			case err := <-done:
				t.Fatalf("Listen returned before its context ended: %v", err)
			case <-deadline:
				t.Fatal("Listen did not wake within 20 s while deliveries were enqueued every 100 ms")
			case <-tick.C:
				f.enqueue(at(time.Duration(i)*time.Second), ep)
			}
		}
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Listen did not return within 10 s of its context ending")
		}
		assert.Positive(t, wakes.Load())
	})
}

// Maintainer tests Maintain's retention: ended deliveries last updated
// more than Suite.Retention ago go, with their attempts and their events
// once no delivery refers to them; pending deliveries and newer rows stay.
func (s Suite) Maintainer(t *testing.T) {
	retention := s.Retention
	if retention == 0 {
		retention = RetentionDefault
	}
	newStore := s.newStore()
	t.Run("ended deliveries older than the retention are pruned, nothing else", func(t *testing.T) {
		f, m := optional[webhook.Maintainer](t, newStore, "Maintainer")
		ep := f.createEndpoint()
		evOK, ok := f.enqueue(base, ep)
		evFailed, failed := f.enqueueDue(base, at(time.Second), ep)
		evPending, pending := f.enqueueDue(base, at(retention+2*time.Hour), ep)
		evLone := f.newEvent(base) // no endpoint subscribed
		require.NoError(t, f.s.Enqueue(f.ctx, evLone, nil))
		f.succeed(f.claimNext(base, ok[0].ID), at(time.Second))
		f.fail(f.claimNext(at(time.Second), failed[0].ID), at(2*time.Second), 0)
		evRecent, recent := f.enqueue(at(retention), ep)
		f.succeed(f.claimNext(at(retention), recent[0].ID), at(retention+time.Second))

		// Just inside the retention: nothing goes.
		require.NoError(t, m.Maintain(f.ctx, at(retention)))
		f.getDelivery(ok[0].ID)
		f.getDelivery(failed[0].ID)
		_, err := f.s.GetEvent(f.ctx, evLone.ID)
		require.NoError(t, err)

		require.NoError(t, m.Maintain(f.ctx, at(retention+time.Hour)))
		for _, d := range []*webhook.Delivery{ok[0], failed[0]} {
			_, err := f.s.GetDelivery(f.ctx, d.ID)
			assert.ErrorIs(t, err, webhook.ErrNotFound, "ended delivery past the retention")
			_, err = f.s.ListAttempts(f.ctx, d.ID)
			assert.ErrorIs(t, err, webhook.ErrNotFound, "its attempts")
		}
		for _, ev := range []*webhook.StoredEvent{evOK, evFailed, evLone} {
			_, err := f.s.GetEvent(f.ctx, ev.ID)
			assert.ErrorIs(t, err, webhook.ErrNotFound, "event with no delivery left")
		}
		for _, ev := range []*webhook.StoredEvent{evPending, evRecent} {
			_, err := f.s.GetEvent(f.ctx, ev.ID)
			assert.NoError(t, err, "event of a kept delivery")
		}
		assert.Equal(t, webhook.StatePending, f.getDelivery(pending[0].ID).State, "pending deliveries are never pruned")
		assert.Len(t, f.attempts(recent[0].ID), 1)
		f.claimOne(at(retention+2*time.Hour), pending[0].ID)

		// A pruned event's ID is new again.
		again := *evOK
		require.NoError(t, f.s.Enqueue(f.ctx, &again, nil))
	})
}
