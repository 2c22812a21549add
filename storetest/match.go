package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// matchFunc is one EnqueueMatching, in the store's own step or in the
// application's transaction; end commits (true) or rolls back (false)
// that transaction, and does nothing for EnqueueMatching.
type matchFunc struct {
	enqueue func(ev *webhook.StoredEvent, now time.Time) (int, error)
	end     func(commit bool) error
}

// MatchEnqueuer tests EnqueueMatching: the deliveries it writes are exactly those Publish would make from
// ListEndpoints and MatchEvent, for a table of filters, disabled and
// inactive endpoints and other tenants' endpoints; a duplicate ID writes
// nothing. A store that returns
// ErrNotSupported (the ability is not available in its configuration)
// skips the area.
func (s Suite) MatchEnqueuer(t *testing.T) {
	testMatch(t, s.newStore(), func(f *fixture) matchFunc {
		m, ok := f.s.(webhook.MatchEnqueuer)
		require.Truef(t, ok, "the Suite tests MatchEnqueuer, but %T does not implement it", f.s)
		return matchFunc{
			enqueue: func(ev *webhook.StoredEvent, now time.Time) (int, error) {
				return m.EnqueueMatching(f.ctx, ev, now)
			},
			end: func(bool) error { return nil },
		}
	}, false)
}

// InTxMatchEnqueuer tests EnqueueMatchingInTx as MatchEnqueuer, in
// transactions begun with Suite.BeginAppTx or BeginTx, that a rolled-back
// one never existed and that a duplicate leaves the transaction usable.
func (s Suite) InTxMatchEnqueuer(t *testing.T) {
	begin := s.appTxBegin(t, "InTxMatchEnqueuer")
	testMatch(t, s.newStore(), func(f *fixture) matchFunc {
		m, ok := f.s.(webhook.InTxMatchEnqueuer)
		require.Truef(t, ok, "the Suite tests InTxMatchEnqueuer, but %T does not implement it", f.s)
		tx, err := begin(f.ctx, f.s)
		require.NoError(t, err)
		return matchFunc{
			enqueue: func(ev *webhook.StoredEvent, now time.Time) (int, error) {
				return m.EnqueueMatchingInTx(f.ctx, tx.Tx, ev, now)
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

// appTxBegin returns Suite.BeginAppTx, or BeginTx wrapped by
// webhook.WrapSQLTx.
func (s Suite) appTxBegin(t *testing.T, name string) func(ctx context.Context, st webhook.Store) (AppTx, error) {
	if s.BeginAppTx != nil {
		return s.BeginAppTx
	}
	require.NotNil(t, s.BeginTx, "Suite.BeginAppTx or BeginTx is required to test %s", name)
	return func(ctx context.Context, st webhook.Store) (AppTx, error) {
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

// matchFilters are the endpoints' filters of the matching table.
var matchFilters = [][]string{
	nil,
	{"post.created"},
	{"post.*"},
	{"post.comment.*"},
	{"post.comment.created"},
	{"postal.sent"},
	{"user.*"},
	{"post.created", "user.*"},
	{"post.updated", "post.comment.*"},
}

// matchTypes are the event types published against matchFilters.
var matchTypes = []string{"post.created", "post.comment.created", "post.comment.deleted", "postal.sent", "user.deleted", "billing.invoice.paid"}

// skipUnsupported skips the test if err says the store cannot match in
// its configuration.
func skipUnsupported(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, webhook.ErrNotSupported) {
		t.Skipf("the store does not match endpoints in this configuration: %v", err)
	}
}

// enqueueCommitted writes ev with m, as of now, and commits; it skips the
// test if the store does not match endpoints in this configuration.
func enqueueCommitted(t *testing.T, m matchFunc, ev *webhook.StoredEvent, now time.Time) int {
	t.Helper()
	n, err := m.enqueue(ev, now)
	if err != nil {
		_ = m.end(false)
	}
	skipUnsupported(t, err)
	require.NoError(t, err)
	require.NoError(t, m.end(true))
	return n
}

func testMatch(t *testing.T, newStore newStoreFunc, begin func(f *fixture) matchFunc, inTx bool) {
	t.Run("deliveries go to exactly the enabled, active endpoints whose filter matches", func(t *testing.T) {
		f := setup(t, newStore)
		var eps []*webhook.Endpoint
		for i, events := range matchFilters {
			eps = append(eps, f.createEndpoint(func(ep *webhook.Endpoint) {
				ep.Events = events
				ep.CreatedAt = at(time.Duration(i) * time.Second)
			}))
		}
		// Endpoints that match everything but must get nothing: disabled,
		// inactive, another tenant's.
		disabled := f.createEndpoint(func(ep *webhook.Endpoint) { ep.Events = nil })
		require.NoError(t, f.s.DisableEndpoint(f.ctx, disabled.ID, "test", base))
		inactive := f.createEndpoint(func(ep *webhook.Endpoint) { ep.Events = nil; ep.Inactive = true })
		other := f.createEndpoint(otherTenant("other-"+uuid.NewString()), func(ep *webhook.Endpoint) { ep.Events = nil })
		listed, err := f.s.ListEndpoints(f.ctx, f.tenant)
		require.NoError(t, err)
		require.Len(t, listed, len(eps)+2)

		now := at(time.Hour)
		for _, typ := range matchTypes {
			ev := f.newEvent(base)
			ev.Type = typ
			ev.Metadata = map[string]string{"type": typ}
			var want []string // what Publish makes from ListEndpoints
			for _, ep := range listed {
				if !ep.Disabled && !ep.Inactive && webhook.MatchEvent(ep.Events, typ) {
					want = append(want, ep.ID)
				}
			}
			m := begin(f)
			n, err := m.enqueue(ev, now)
			if err != nil {
				_ = m.end(false)
			}
			skipUnsupported(t, err)
			require.NoError(t, err, typ)
			require.NoError(t, m.end(true))
			assert.Equal(t, len(want), n, "%s: deliveries written", typ)
			ds, _, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{EventID: ev.ID, Limit: 1000})
			require.NoError(t, err)
			var got []string
			for _, d := range ds {
				got = append(got, d.EndpointID)
				_, err := uuid.Parse(d.ID)
				assert.NoError(t, err, "delivery ID %q is a UUID", d.ID)
				assertDelivery(t, &webhook.Delivery{
					ID: d.ID, EventID: ev.ID, EventType: typ, TenantID: f.tenant, EndpointID: d.EndpointID,
					State: webhook.StatePending, NextAttemptAt: now, CreatedAt: now,
				}, d)
				assertTime(t, now, d.UpdatedAt, "UpdatedAt")
			}
			assert.ElementsMatch(t, want, got, "%s: endpoints", typ)
			stored, err := f.s.GetEvent(f.ctx, ev.ID)
			require.NoError(t, err)
			assert.Equal(t, string(ev.Body), string(stored.Body))
			assert.Equal(t, ev.Metadata, stored.Metadata)
		}
		// The claims carry body and metadata; nothing reached the
		// disabled, inactive or other tenant's endpoints.
		for _, c := range f.claim(now, 1000) {
			assert.NotContains(t, []string{disabled.ID, inactive.ID, other.ID}, c.Endpoint.ID)
			assert.Equal(t, c.Delivery.EventType, c.Metadata["type"])
		}
	})

	t.Run("an event with DeliverAt is first due then", func(t *testing.T) {
		f := setup(t, newStore)
		f.createEndpoint(func(ep *webhook.Endpoint) { ep.Events = nil })
		ev := f.newEvent(base)
		ev.DeliverAt = at(time.Hour)
		n := enqueueCommitted(t, begin(f), ev, base)
		require.Equal(t, 1, n)
		ds, _, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{EventID: ev.ID, Limit: 10})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assertTime(t, ev.DeliverAt, ds[0].NextAttemptAt, "NextAttemptAt is DeliverAt")
		assertTime(t, base, ds[0].CreatedAt, "CreatedAt is the publish time")
		assert.Empty(t, f.claim(at(time.Hour-time.Second), 10), "not due before DeliverAt")
		assert.Len(t, f.claim(at(time.Hour), 10), 1, "due at DeliverAt")
	})

	t.Run("an event no endpoint gets is stored with no delivery", func(t *testing.T) {
		f := setup(t, newStore)
		f.createEndpoint(func(ep *webhook.Endpoint) { ep.Events = []string{"user.*"} })
		ev := f.newEvent(base)
		n := enqueueCommitted(t, begin(f), ev, base)
		assert.Zero(t, n)
		_, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Empty(t, f.claim(base, 10))
	})

	t.Run("a duplicate event ID writes nothing", func(t *testing.T) {
		f := setup(t, newStore)
		f.createEndpoint(func(ep *webhook.Endpoint) { ep.Events = nil })
		ev := f.newEvent(base)
		m := begin(f)
		n, err := m.enqueue(ev, base)
		if err != nil {
			_ = m.end(false)
		}
		skipUnsupported(t, err)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		if !inTx {
			require.NoError(t, m.end(true))
			m = begin(f)
		}
		// Again, as another type: in the same transaction when there is
		// one, which must stay usable.
		again := *ev
		again.Type = "user.deleted"
		n, err = m.enqueue(&again, at(time.Minute))
		require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
		assert.Zero(t, n)
		var dup *webhook.DuplicateEventError
		if errors.As(err, &dup) && dup.Existing != nil {
			assert.Equal(t, "post.created", dup.Existing.Type, "the DuplicateEventError holds the stored event")
		}
		require.NoError(t, m.end(true), "the transaction survives the duplicate")
		got, err := f.s.GetEvent(f.ctx, ev.ID)
		require.NoError(t, err)
		assert.Equal(t, "post.created", got.Type)
		assert.Len(t, f.claim(at(time.Hour), 10), 1)
	})

	if inTx {
		t.Run("what a rolled-back transaction wrote never existed", func(t *testing.T) {
			f := setup(t, newStore)
			f.createEndpoint(func(ep *webhook.Endpoint) { ep.Events = nil })
			ev := f.newEvent(base)
			m := begin(f)
			n, err := m.enqueue(ev, base)
			if err != nil {
				_ = m.end(false)
			}
			skipUnsupported(t, err)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			require.NoError(t, m.end(false))
			_, err = f.s.GetEvent(f.ctx, ev.ID)
			require.ErrorIs(t, err, webhook.ErrNotFound)
			assert.Empty(t, f.claim(at(time.Hour), 10))
		})

	}
}
