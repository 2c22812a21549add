package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// Stats tests webhook.StatsReader: pending counts and the oldest pending
// delivery overall and per endpoint, the scope (tenant, endpoint IDs),
// disabled endpoints, and the attempts and failed deliveries of a window.
func (s Suite) Stats(t *testing.T) {
	newStore := s.newStore()
	t.Run("pending and oldest pending, overall and per endpoint", func(t *testing.T) { testStatsPending(t, newStore) })
	t.Run("attempts and failed deliveries in the window", func(t *testing.T) { testStatsWindow(t, newStore) })
	t.Run("scope by tenant and endpoint IDs", func(t *testing.T) { testStatsScope(t, newStore) })
}

// stats calls Stats with p, failing the test on error.
func (f *fixture) stats(sr webhook.StatsReader, p webhook.StatsParams) *webhook.Stats {
	f.t.Helper()
	st, err := sr.Stats(f.ctx, p)
	require.NoError(f.t, err)
	require.NotNil(f.t, st)
	return st
}

// assertCounts asserts the counts that a Store fills.
func assertCounts(t *testing.T, want, got webhook.Counts, what string) {
	t.Helper()
	assert.Equal(t, want.Pending, got.Pending, "%s: Pending", what)
	assertTime(t, want.OldestPendingAt, got.OldestPendingAt, what+": OldestPendingAt")
	assert.Equal(t, want.Succeeded, got.Succeeded, "%s: Succeeded", what)
	assert.Equal(t, want.Failed, got.Failed, "%s: Failed", what)
	assert.Equal(t, want.DeliveriesFailed, got.DeliveriesFailed, "%s: DeliveriesFailed", what)
}

func testStatsPending(t *testing.T, newStore newStoreFunc) {
	f, sr := optional[webhook.StatsReader](t, newStore, "StatsReader")
	a, b, c := f.createEndpoint(), f.createEndpoint(), f.createEndpoint()
	idle := f.createEndpoint()
	_, first := f.enqueueDue(at(time.Second), at(time.Hour), a, b) // due later: waiting
	f.enqueue(at(2*time.Second), a)
	f.enqueue(at(3*time.Second), c)
	// a's second delivery, in flight, is still pending.
	require.Len(t, f.claim(at(2*time.Second), 10), 1)
	require.NoError(t, f.s.DisableEndpoint(f.ctx, c.ID, "manual", at(4*time.Second)))

	st := f.stats(sr, webhook.StatsParams{Now: at(time.Minute), TenantID: f.tenant, ByEndpoint: true})
	assertCounts(t, webhook.Counts{Pending: 3, OldestPendingAt: at(time.Second)}, st.Counts, "tenant")
	assert.Equal(t, 1, st.EndpointsDisabled)
	require.Len(t, st.Endpoints, 4, "one entry per endpoint in scope, idle ones too")
	for _, tc := range []struct {
		ep       *webhook.Endpoint
		want     webhook.Counts
		disabled bool
	}{
		{a, webhook.Counts{Pending: 2, OldestPendingAt: at(time.Second)}, false},
		{b, webhook.Counts{Pending: 1, OldestPendingAt: at(time.Second)}, false},
		{c, webhook.Counts{}, true},
		{idle, webhook.Counts{}, false},
	} {
		got, ok := st.Endpoints[tc.ep.ID]
		require.True(t, ok, "entry of %s", tc.ep.ID)
		assert.Equal(t, tc.ep.ID, got.EndpointID)
		assert.Equal(t, f.tenant, got.TenantID)
		assert.Equal(t, tc.disabled, got.Disabled)
		assertCounts(t, tc.want, got.Counts, "endpoint")
	}

	st = f.stats(sr, webhook.StatsParams{Now: at(time.Minute), TenantID: f.tenant})
	assert.Nil(t, st.Endpoints, "no entries without ByEndpoint")
	assertCounts(t, webhook.Counts{Pending: 3, OldestPendingAt: at(time.Second)}, st.Counts, "totals without ByEndpoint")
	assert.Equal(t, 1, st.EndpointsDisabled)

	// Every delivery ended (the lease of the one in flight expired, so it
	// is claimed again): nothing pending, no oldest.
	cs := f.claim(at(2*time.Hour), 10)
	require.Len(t, cs, 3)
	for _, cl := range cs {
		f.succeed(cl, at(2*time.Hour))
	}
	assert.Contains(t, deliveryIDs(cs), first[0].ID)
	st = f.stats(sr, webhook.StatsParams{Now: at(3 * time.Hour), TenantID: f.tenant})
	assertCounts(t, webhook.Counts{}, st.Counts, "all ended")
}

func testStatsWindow(t *testing.T, newStore newStoreFunc) {
	f, sr := optional[webhook.StatsReader](t, newStore, "StatsReader")
	a, b := f.createEndpoint(), f.createEndpoint()
	_, ds := f.enqueue(base, a)
	_, failed := f.enqueue(at(15*time.Second), a)
	_, other := f.enqueue(at(15*time.Second), b)
	// completion() starts every attempt 250 ms before it completes.
	f.retry(f.claimNext(at(time.Second), ds[0].ID), at(time.Second), at(10*time.Second)) // failed attempt at 0.75 s
	f.succeed(f.claimNext(at(10*time.Second), ds[0].ID), at(10*time.Second))             // success at 9.75 s
	// Both due at 15 s, in any order: a's fails (attempt at 19.75 s, the
	// delivery failed at 20 s), b's succeeds (attempt at 19.75 s).
	cs := f.claim(at(20*time.Second), 10)
	require.ElementsMatch(t, []string{failed[0].ID, other[0].ID}, deliveryIDs(cs))
	for _, c := range cs {
		if c.Delivery.ID == failed[0].ID {
			f.fail(c, at(20*time.Second), 0)
		} else {
			f.succeed(c, at(20*time.Second))
		}
	}

	for _, tc := range []struct {
		name       string
		now        time.Time
		window     time.Duration
		total, ofA webhook.Counts
	}{
		{"everything", at(21 * time.Second), 21 * time.Second,
			webhook.Counts{Succeeded: 2, Failed: 2, DeliveriesFailed: 1}, webhook.Counts{Succeeded: 1, Failed: 2, DeliveriesFailed: 1}},
		{"the start is inside", at(21 * time.Second), 11 * time.Second,
			webhook.Counts{Succeeded: 1, Failed: 1, DeliveriesFailed: 1}, webhook.Counts{Failed: 1, DeliveriesFailed: 1}},
		{"the end is outside", at(19750 * time.Millisecond), 10 * time.Second,
			webhook.Counts{Succeeded: 1}, webhook.Counts{Succeeded: 1}},
		{"no window, no attempt counts", at(21 * time.Second), 0, webhook.Counts{}, webhook.Counts{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := f.stats(sr, webhook.StatsParams{Now: tc.now, Window: tc.window, TenantID: f.tenant, ByEndpoint: true})
			assertCounts(t, tc.total, st.Counts, "total")
			assertCounts(t, tc.ofA, st.Endpoints[a.ID].Counts, "endpoint a")
			var ofB webhook.Counts
			ofB.Add(tc.total)
			ofB.Succeeded -= tc.ofA.Succeeded
			ofB.Failed -= tc.ofA.Failed
			ofB.DeliveriesFailed -= tc.ofA.DeliveriesFailed
			assertCounts(t, ofB, st.Endpoints[b.ID].Counts, "endpoint b")
		})
	}
}

func testStatsScope(t *testing.T, newStore newStoreFunc) {
	f, sr := optional[webhook.StatsReader](t, newStore, "StatsReader")
	mine := f.createEndpoint()
	other := f.createEndpoint(func(ep *webhook.Endpoint) { ep.TenantID = "other-" + f.tenant })
	f.enqueue(at(2*time.Second), mine)
	ev := f.newEvent(at(time.Second))
	ev.TenantID = other.TenantID
	require.NoError(t, f.s.Enqueue(f.ctx, ev, []*webhook.Delivery{newDelivery(ev, other, ev.CreatedAt)}))
	require.NoError(t, f.s.DisableEndpoint(f.ctx, other.ID, "manual", at(3*time.Second)))
	ev2 := f.newEvent(at(4 * time.Second))
	ev2.TenantID = other.TenantID
	gone := f.createEndpoint(func(ep *webhook.Endpoint) { ep.TenantID = other.TenantID })
	require.NoError(t, f.s.Enqueue(f.ctx, ev2, []*webhook.Delivery{newDelivery(ev2, gone, ev2.CreatedAt)}))
	now := at(time.Minute)

	st := f.stats(sr, webhook.StatsParams{Now: now, ByEndpoint: true})
	assertCounts(t, webhook.Counts{Pending: 2, OldestPendingAt: at(2 * time.Second)}, st.Counts, "every tenant")
	assert.Equal(t, 1, st.EndpointsDisabled)
	assert.Len(t, st.Endpoints, 3)

	st = f.stats(sr, webhook.StatsParams{Now: now, TenantID: other.TenantID})
	assertCounts(t, webhook.Counts{Pending: 1, OldestPendingAt: at(4 * time.Second)}, st.Counts, "the other tenant")
	assert.Equal(t, 1, st.EndpointsDisabled)

	unknown := uuid.NewString()
	st = f.stats(sr, webhook.StatsParams{Now: now, EndpointIDs: []string{mine.ID, unknown, other.ID}, ByEndpoint: true})
	assertCounts(t, webhook.Counts{Pending: 1, OldestPendingAt: at(2 * time.Second)}, st.Counts, "listed endpoints")
	assert.Equal(t, 1, st.EndpointsDisabled)
	assert.Len(t, st.Endpoints, 2, "unknown IDs are ignored")
	assert.NotContains(t, st.Endpoints, unknown)

	st = f.stats(sr, webhook.StatsParams{Now: now, TenantID: f.tenant, EndpointIDs: []string{other.ID, gone.ID}, ByEndpoint: true})
	assertCounts(t, webhook.Counts{}, st.Counts, "listed endpoints of another tenant")
	assert.Zero(t, st.EndpointsDisabled)
	assert.Empty(t, st.Endpoints)

	require.NoError(t, f.s.DeleteEndpoint(f.ctx, gone.ID))
	st = f.stats(sr, webhook.StatsParams{Now: now, TenantID: other.TenantID})
	assertCounts(t, webhook.Counts{}, st.Counts, "a deleted endpoint's deliveries are gone with it")
}
