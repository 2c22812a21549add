package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// manyFunc is one batch enqueue, in the store's own transaction or in the
// application's; end commits (true) or rolls back (false) that
// transaction, and does nothing for EnqueueMany.
type manyFunc struct {
	enqueue func(evs []*webhook.StoredEvent, ds [][]*webhook.Delivery) ([]*webhook.StoredEvent, error)
	end     func(commit bool) error
}

// ManyEnqueuer tests EnqueueMany: a batch over several tenants with
// fan-out, duplicate IDs (skipped when the same event, a clash that stores
// nothing otherwise), and batches larger than any statement's parameter
// limit.
func (s Suite) ManyEnqueuer(t *testing.T) {
	testMany(t, s.newStore(), func(f *fixture) manyFunc {
		m, ok := f.s.(webhook.ManyEnqueuer)
		require.Truef(t, ok, "the Suite tests ManyEnqueuer, but %T does not implement it", f.s)
		return manyFunc{
			enqueue: func(evs []*webhook.StoredEvent, ds [][]*webhook.Delivery) ([]*webhook.StoredEvent, error) {
				return m.EnqueueMany(f.ctx, evs, ds)
			},
			end: func(bool) error { return nil },
		}
	}, false)
}

// InTxManyEnqueuer tests EnqueueManyInTx as ManyEnqueuer, in transactions
// begun with Suite.BeginAppTx or BeginTx, and that a rolled-back batch
// never existed.
func (s Suite) InTxManyEnqueuer(t *testing.T) {
	begin := s.BeginAppTx
	if begin == nil {
		require.NotNil(t, s.BeginTx, "Suite.BeginAppTx or BeginTx is required to test InTxManyEnqueuer")
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
	testMany(t, s.newStore(), func(f *fixture) manyFunc {
		m, ok := f.s.(webhook.InTxManyEnqueuer)
		require.Truef(t, ok, "the Suite tests InTxManyEnqueuer, but %T does not implement it", f.s)
		tx, err := begin(f.ctx, f.s)
		require.NoError(t, err)
		return manyFunc{
			enqueue: func(evs []*webhook.StoredEvent, ds [][]*webhook.Delivery) ([]*webhook.StoredEvent, error) {
				return m.EnqueueManyInTx(f.ctx, tx.Tx, evs, ds)
			},
			end: func(commit bool) error {
				if commit {
					return tx.Commit(f.ctx)
				}
				return tx.Rollback(f.ctx)
			},
		}
	}, true)
}

// otherTenant makes an endpoint of another tenant.
func otherTenant(tenant string) func(*webhook.Endpoint) {
	return func(ep *webhook.Endpoint) { ep.TenantID = tenant }
}

// eventOf returns a new event of tenant.
func (f *fixture) eventOf(tenant string) *webhook.StoredEvent {
	ev := f.newEvent(base)
	ev.TenantID = tenant
	return ev
}

func testMany(t *testing.T, newStore newStoreFunc, begin func(f *fixture) manyFunc, inTx bool) {
	t.Run("a batch over several tenants fans out to each tenant's endpoints", func(t *testing.T) {
		f := setup(t, newStore)
		tenants := []string{f.tenant, "b-" + uuid.NewString(), "c-" + uuid.NewString()}
		eps := map[string][]*webhook.Endpoint{}
		for i, tn := range tenants {
			for j := 0; j <= i; j++ {
				eps[tn] = append(eps[tn], f.createEndpoint(otherTenant(tn)))
			}
		}
		var evs []*webhook.StoredEvent
		var ds [][]*webhook.Delivery
		want := map[string]string{} // delivery ID → event ID
		for i := 0; i < 30; i++ {
			ev := f.eventOf(tenants[i%3])
			ev.Metadata = map[string]string{"n": fmt.Sprint(i)}
			var evDs []*webhook.Delivery
			for _, ep := range eps[ev.TenantID] {
				d := newDelivery(ev, ep, base)
				evDs = append(evDs, d)
				want[d.ID] = ev.ID
			}
			evs, ds = append(evs, ev), append(ds, evDs)
		}
		// An event no endpoint gets is stored too.
		lone := f.eventOf("nobody-" + uuid.NewString())
		evs, ds = append(evs, lone), append(ds, nil)
		m := begin(f)
		existing, err := m.enqueue(evs, ds)
		require.NoError(t, err)
		require.NoError(t, m.end(true))
		for _, e := range existing {
			assert.Nil(t, e, "nothing was stored before")
		}
		got := map[string]string{}
		for _, c := range f.claim(base, 1000) {
			got[c.Delivery.ID] = c.Delivery.EventID
			ev := evs[indexOf(evs, c.Delivery.EventID)]
			assert.Equal(t, string(ev.Body), string(c.Body))
			assert.Equal(t, ev.Metadata, c.Metadata)
			assert.Equal(t, ev.TenantID, c.Endpoint.TenantID)
		}
		assert.Equal(t, want, got)
		stored, err := f.s.GetEvent(f.ctx, lone.ID)
		require.NoError(t, err)
		assert.Equal(t, lone.TenantID, stored.TenantID)
	})

	t.Run("an event stored already with the same tenant and type is skipped and reported", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		prev, _ := f.enqueue(base, ep)
		again := *prev
		again.CreatedAt = at(time4)
		fresh := f.newEvent(base)
		m := begin(f)
		existing, err := m.enqueue([]*webhook.StoredEvent{fresh, &again},
			[][]*webhook.Delivery{{newDelivery(fresh, ep, base)}, {newDelivery(&again, ep, base)}})
		require.NoError(t, err)
		require.NoError(t, m.end(true))
		require.Len(t, existing, 2)
		assert.Nil(t, existing[0])
		require.NotNil(t, existing[1])
		assert.Equal(t, prev.ID, existing[1].ID)
		assert.Equal(t, prev.Type, existing[1].Type)
		assert.Equal(t, prev.TenantID, existing[1].TenantID)
		assertTime(t, prev.CreatedAt, existing[1].CreatedAt, "the stored event's CreatedAt")
		cs := f.claim(base, 10)
		assert.Len(t, cs, 2, "the first event's delivery and the fresh one's; the retry's is skipped")
	})

	t.Run("an ID stored with another tenant or type fails the batch, nothing stored", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		prev, _ := f.enqueue(base, ep)
		clash := *prev
		clash.Type = "post.updated"
		fresh := f.newEvent(base)
		m := begin(f)
		_, err := m.enqueue([]*webhook.StoredEvent{fresh, &clash},
			[][]*webhook.Delivery{{newDelivery(fresh, ep, base)}, {newDelivery(&clash, ep, base)}})
		require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
		var ce *webhook.EventClashError
		require.True(t, errors.As(err, &ce), "an *EventClashError, got %T: %v", err, err)
		assert.Equal(t, []string{prev.ID}, ce.IDs)
		require.NoError(t, m.end(true), "a clash leaves the transaction usable")
		_, err = f.s.GetEvent(f.ctx, fresh.ID)
		require.ErrorIs(t, err, webhook.ErrNotFound, "nothing of the batch is stored")
		assert.Len(t, f.claim(base, 10), 1, "only the first event's delivery")
	})

	t.Run("a batch larger than a statement's parameter limit", func(t *testing.T) {
		if testing.Short() {
			t.Skip("short")
		}
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ep2 := f.createEndpoint()
		const n = 6000 // 36000 event parameters, 144000 delivery parameters
		evs := make([]*webhook.StoredEvent, n)
		ds := make([][]*webhook.Delivery, n)
		for i := range evs {
			evs[i] = f.newEvent(base)
			ds[i] = []*webhook.Delivery{newDelivery(evs[i], ep, base), newDelivery(evs[i], ep2, base)}
		}
		m := begin(f)
		existing, err := m.enqueue(evs, ds)
		require.NoError(t, err)
		require.NoError(t, m.end(true))
		assert.Nil(t, existing)
		for i := 0; i < n; i += 997 {
			_, err := f.s.GetEvent(f.ctx, evs[i].ID)
			require.NoError(t, err, "event %d", i)
			for _, d := range ds[i] {
				f.getDelivery(d.ID)
			}
		}
		_, err = f.s.GetEvent(f.ctx, evs[n-1].ID)
		require.NoError(t, err)
		f.getDelivery(ds[n-1][1].ID)
	})

	if !inTx {
		return
	}
	t.Run("what a rolled-back transaction enqueued never existed", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		a, b := f.newEvent(base), f.newEvent(base)
		m := begin(f)
		_, err := m.enqueue([]*webhook.StoredEvent{a, b}, [][]*webhook.Delivery{{newDelivery(a, ep, base)}, {newDelivery(b, ep, base)}})
		require.NoError(t, err)
		require.NoError(t, m.end(false))
		for _, ev := range []*webhook.StoredEvent{a, b} {
			_, err = f.s.GetEvent(f.ctx, ev.ID)
			require.ErrorIs(t, err, webhook.ErrNotFound)
		}
		assert.Empty(t, f.claim(base, 10))
	})
}

// time4 is an offset of a retried event's CreatedAt, which the Store
// ignores for the stored one's.
const time4 = 4 * lease

func indexOf(evs []*webhook.StoredEvent, id string) int {
	for i, ev := range evs {
		if ev.ID == id {
			return i
		}
	}
	panic("storetest: no event " + id)
}
