package storetest

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

// listAll reads every page of f's deliveries with page size limit and
// returns them in order, checking that no page exceeds the limit.
func (fx *fixture) listAll(f webhook.DeliveryFilter, limit int) []*webhook.Delivery {
	fx.t.Helper()
	f.Limit = limit
	var all []*webhook.Delivery
	for pages := 0; ; pages++ {
		require.Less(fx.t, pages, 10000, "pagination does not end")
		page, next, err := fx.s.ListDeliveries(fx.ctx, f)
		require.NoError(fx.t, err)
		require.LessOrEqual(fx.t, len(page), limit)
		all = append(all, page...)
		if next == "" {
			return all
		}
		require.NotEqual(fx.t, f.Cursor, next, "the cursor moves")
		f.Cursor = next
	}
}

// assertNewestFirst asserts that ds are in non-increasing CreatedAt order.
func assertNewestFirst(t *testing.T, ds []*webhook.Delivery) {
	t.Helper()
	for i := 1; i < len(ds); i++ {
		assert.False(t, ds[i].CreatedAt.After(ds[i-1].CreatedAt), "delivery %d is newer than delivery %d", i, i-1)
	}
}

func testListDeliveries(t *testing.T, newStore newStoreFunc) {
	t.Run("newest first across events", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, mid := f.enqueue(at(2*time.Second), ep)
		_, old := f.enqueue(at(time.Second), ep)
		_, nw := f.enqueue(at(3*time.Second), ep)
		page, next, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{})
		require.NoError(t, err)
		assert.Empty(t, next)
		assert.Equal(t, []string{nw[0].ID, mid[0].ID, old[0].ID}, ids(page))
		assertDelivery(t, nw[0], page[0])
	})

	t.Run("filters by tenant and event type", func(t *testing.T) {
		f := setup(t, newStore)
		mine := f.createEndpoint()
		other := f.createEndpoint(func(ep *webhook.Endpoint) { ep.TenantID = "other-" + f.tenant })
		_, created := f.enqueue(at(time.Second), mine)
		ev := f.newEvent(at(2 * time.Second))
		ev.Type = "post.deleted"
		deleted := newDelivery(ev, mine, ev.CreatedAt)
		require.NoError(t, f.s.Enqueue(f.ctx, ev, []*webhook.Delivery{deleted}))
		evOther := f.newEvent(at(3 * time.Second))
		evOther.TenantID = other.TenantID
		theirs := newDelivery(evOther, other, evOther.CreatedAt)
		require.NoError(t, f.s.Enqueue(f.ctx, evOther, []*webhook.Delivery{theirs}))

		assert.Equal(t, []string{deleted.ID, created[0].ID}, ids(f.listAll(webhook.DeliveryFilter{TenantID: f.tenant}, 1)))
		assert.Equal(t, []string{theirs.ID}, ids(f.listAll(webhook.DeliveryFilter{TenantID: other.TenantID}, 10)))
		assert.Equal(t, []string{deleted.ID}, ids(f.listAll(webhook.DeliveryFilter{TenantID: f.tenant, EventType: "post.deleted"}, 10)))
		assert.Equal(t, []string{theirs.ID, created[0].ID}, ids(f.listAll(webhook.DeliveryFilter{EventType: "post.created"}, 10)))
		assert.Empty(t, f.listAll(webhook.DeliveryFilter{TenantID: other.TenantID, EventType: "post.deleted"}, 10))
	})

	t.Run("filters by endpoint, event, state and time, alone and together", func(t *testing.T) {
		f := setup(t, newStore)
		a, b := f.createEndpoint(), f.createEndpoint()
		ev1, d1 := f.enqueue(at(1*time.Second), a, b) // a: succeeded, b: failed
		_, d2 := f.enqueue(at(2*time.Second), a, b)   // pending
		ev3, d3 := f.enqueue(at(3*time.Second), a)    // failed
		first := f.claim(at(time.Minute), 2)
		require.ElementsMatch(t, ids(d1), deliveryIDs(first))
		for _, c := range first {
			if c.Delivery.ID == d1[0].ID {
				f.succeed(c, at(time.Minute))
			} else {
				f.fail(c, at(time.Minute), 0)
			}
		}
		cs := f.claim(at(time.Minute), 2) // d2 stays pending, leased
		require.Len(t, cs, 2)
		f.fail(f.claimNext(at(time.Minute), d3[0].ID), at(time.Minute), 0)

		for _, tc := range []struct {
			name   string
			filter webhook.DeliveryFilter
			want   []*webhook.Delivery
		}{
			{"no filter", webhook.DeliveryFilter{}, []*webhook.Delivery{d3[0], d2[0], d2[1], d1[0], d1[1]}},
			{"endpoint", webhook.DeliveryFilter{EndpointID: b.ID}, []*webhook.Delivery{d2[1], d1[1]}},
			{"event", webhook.DeliveryFilter{EventID: ev1.ID}, []*webhook.Delivery{d1[0], d1[1]}},
			{"state failed", webhook.DeliveryFilter{State: webhook.StateFailed}, []*webhook.Delivery{d3[0], d1[1]}},
			{"state pending", webhook.DeliveryFilter{State: webhook.StatePending}, []*webhook.Delivery{d2[0], d2[1]}},
			{"state succeeded", webhook.DeliveryFilter{State: webhook.StateSucceeded}, []*webhook.Delivery{d1[0]}},
			{"since is inclusive", webhook.DeliveryFilter{Since: at(2 * time.Second)}, []*webhook.Delivery{d3[0], d2[0], d2[1]}},
			{"until is exclusive", webhook.DeliveryFilter{Until: at(2 * time.Second)}, []*webhook.Delivery{d1[0], d1[1]}},
			{"since and until", webhook.DeliveryFilter{Since: at(2 * time.Second), Until: at(3 * time.Second)}, []*webhook.Delivery{d2[0], d2[1]}},
			{"endpoint and state", webhook.DeliveryFilter{EndpointID: a.ID, State: webhook.StateFailed}, []*webhook.Delivery{d3[0]}},
			{"event and endpoint", webhook.DeliveryFilter{EventID: ev3.ID, EndpointID: b.ID}, nil},
			{"unknown endpoint", webhook.DeliveryFilter{EndpointID: uuid.NewString()}, nil},
			{"unknown event", webhook.DeliveryFilter{EventID: uuid.NewString()}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, next, err := f.s.ListDeliveries(f.ctx, tc.filter)
				require.NoError(t, err)
				assert.Empty(t, next)
				assertNewestFirst(t, got)
				// Deliveries of one event share CreatedAt: compare as sets,
				// the order having been checked above.
				assert.ElementsMatch(t, ids(tc.want), ids(got))
			})
		}
	})

	t.Run("cursor pagination visits every delivery exactly once", func(t *testing.T) {
		f := setup(t, newStore)
		a, b := f.createEndpoint(), f.createEndpoint()
		var all []string
		// 23 events, several deliveries sharing a CreatedAt, so the cursor
		// must break ties.
		for i := 0; i < 23; i++ {
			eps := []*webhook.Endpoint{a}
			if i%3 == 0 {
				eps = append(eps, b, a)
			}
			_, ds := f.enqueue(at(time.Duration(i%7)*time.Second), eps...)
			all = append(all, ids(ds)...)
		}
		for _, limit := range []int{1, 2, 4, 7, 100} {
			got := f.listAll(webhook.DeliveryFilter{}, limit)
			assertNewestFirst(t, got)
			assert.Equal(t, sorted(all), sorted(ids(got)), "page size %d", limit)
		}
		// With a filter too.
		var ofB []string
		for _, id := range all {
			if f.getDelivery(id).EndpointID == b.ID {
				ofB = append(ofB, id)
			}
		}
		require.Len(t, ofB, 8)
		got := f.listAll(webhook.DeliveryFilter{EndpointID: b.ID}, 3)
		assert.Equal(t, sorted(ofB), sorted(ids(got)))
	})

	t.Run("no cursor when the page holds the rest exactly", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		for i := 0; i < 6; i++ {
			f.enqueue(at(time.Duration(i)*time.Second), ep)
		}
		page, next, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{Limit: 3})
		require.NoError(t, err)
		require.Len(t, page, 3)
		require.NotEmpty(t, next)
		page, next, err = f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{Limit: 3, Cursor: next})
		require.NoError(t, err)
		assert.Len(t, page, 3)
		assert.Empty(t, next)
	})

	t.Run("Limit defaults to 50 and is capped at 1000", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev := f.newEvent(base)
		ds := make([]*webhook.Delivery, 1001)
		for i := range ds {
			ds[i] = newDelivery(ev, ep, at(time.Hour))
			ds[i].CreatedAt = at(time.Duration(i) * time.Millisecond)
		}
		require.NoError(t, f.s.Enqueue(f.ctx, ev, ds))

		page, next, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{})
		require.NoError(t, err)
		assert.Len(t, page, 50)
		assert.NotEmpty(t, next)
		assert.Equal(t, ds[1000].ID, page[0].ID)
		assert.Equal(t, ds[951].ID, page[49].ID)

		page, next, err = f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{Limit: 5000})
		require.NoError(t, err)
		assert.Len(t, page, 1000)
		require.NotEmpty(t, next)
		page, next, err = f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{Limit: 5000, Cursor: next})
		require.NoError(t, err)
		assert.Equal(t, []string{ds[0].ID}, ids(page))
		assert.Empty(t, next)
	})

	t.Run("a cursor that was not issued is ErrInvalid", func(t *testing.T) {
		f := setup(t, newStore)
		for _, c := range []string{
			"not a cursor!",
			// Well-formed base64 of a time and an ID that no store holds:
			// a NUL and invalid UTF-8, which PostgreSQL refuses to compare.
			base64.RawURLEncoding.EncodeToString([]byte("123/a\x00b")),
			base64.RawURLEncoding.EncodeToString([]byte("123/\xff\xfe")),
			base64.StdEncoding.EncodeToString([]byte("123/a\x00b")),
		} {
			_, _, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{Cursor: c})
			require.ErrorIs(t, err, webhook.ErrInvalid, "cursor %q", c)
		}
	})
}

func testListAttempts(t *testing.T, newStore newStoreFunc) {
	t.Run("attempts oldest first", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		var want []string
		now := base
		for i := 0; i < 4; i++ {
			c := f.claimOne(now, ds[0].ID)
			comp := completion(c, webhook.OutcomeRetry, now.Add(time.Second))
			comp.RetryAt = now.Add(time.Minute)
			if i == 3 {
				comp = completion(c, webhook.OutcomeSuccess, now.Add(time.Second))
			}
			f.complete(comp)
			want = append(want, comp.Attempt.ID)
			now = now.Add(time.Minute)
		}
		as := f.attempts(ds[0].ID)
		require.Len(t, as, 4)
		for i, a := range as {
			assert.Equal(t, want[i], a.ID)
			assert.Equal(t, i+1, a.Number)
			assert.Equal(t, i == 3, a.Success)
		}
	})

	t.Run("no attempts yet is an empty list", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		assert.Empty(t, f.attempts(ds[0].ID))
	})

	t.Run("unknown delivery is ErrNotFound", func(t *testing.T) {
		f := setup(t, newStore)
		_, err := f.s.ListAttempts(f.ctx, uuid.NewString())
		require.ErrorIs(t, err, webhook.ErrNotFound)
	})
}

func testRequeue(t *testing.T, newStore newStoreFunc) {
	// ended returns an endpoint with one succeeded and two failed
	// deliveries (created at 1s, 2s, 3s) and one pending (4s).
	ended := func(t *testing.T) (*fixture, *webhook.Endpoint, []*webhook.Delivery) {
		t.Helper()
		f := setup(t, newStore)
		ep := f.createEndpoint()
		var ds []*webhook.Delivery
		for i := 1; i <= 4; i++ {
			_, d := f.enqueueDue(at(time.Duration(i)*time.Second), at(time.Duration(i)*time.Minute), ep)
			ds = append(ds, d...)
		}
		f.succeed(f.claimNext(at(time.Minute), ds[0].ID), at(time.Minute))
		f.fail(f.claimNext(at(2*time.Minute), ds[1].ID), at(2*time.Minute), 0)
		c := f.claimNext(at(3*time.Minute), ds[2].ID)
		c2 := completion(c, webhook.OutcomeRetry, at(3*time.Minute))
		c2.RetryAt = at(3 * time.Minute)
		f.complete(c2)
		f.fail(f.claimNext(at(3*time.Minute), ds[2].ID), at(3*time.Minute), 0)
		require.Equal(t, 2, f.getDelivery(ds[2].ID).Attempts)
		return f, ep, ds
	}
	now := at(time.Hour)

	t.Run("one ended delivery, failed or succeeded, is pending again at Now with Attempts 0", func(t *testing.T) {
		f, _, ds := ended(t)
		for _, d := range ds[:3] {
			n, err := f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: d.ID, Now: now})
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			got := f.getDelivery(d.ID)
			assert.Equal(t, webhook.StatePending, got.State)
			assert.Zero(t, got.Attempts)
			assertTime(t, now, got.NextAttemptAt, "NextAttemptAt")
		}
		assert.Len(t, f.attempts(ds[2].ID), 2, "past attempts stay in the log")
		assert.Equal(t, []string{ds[3].ID}, deliveryIDs(f.claim(now.Add(-time.Second), 10)), "due at Now, not before")
		cs := f.claim(now, 10)
		assert.ElementsMatch(t, ids(ds[:3]), deliveryIDs(cs))
		for _, c := range cs {
			assert.Zero(t, c.Delivery.Attempts)
		}
	})

	t.Run("a requeued delivery starts afresh: LastError empty, errors kept in the log", func(t *testing.T) {
		f, _, ds := ended(t)
		require.NotEmpty(t, f.getDelivery(ds[2].ID).LastError)
		n, err := f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: ds[2].ID, Now: now})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		assert.Empty(t, f.getDelivery(ds[2].ID).LastError, "LastError after Requeue")
		as := f.attempts(ds[2].ID)
		require.Len(t, as, 2)
		assert.Equal(t, "HTTP 500 (attempt 2)", as[1].Error, "the attempt log keeps the reason")

		n, err = f.s.Requeue(f.ctx, webhook.RequeueParams{EndpointID: ds[1].EndpointID, Now: now})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		assert.Empty(t, f.getDelivery(ds[1].ID).LastError, "LastError after Requeue by endpoint")
	})

	t.Run("a success after a retry clears LastError", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		_, ds := f.enqueue(base, ep)
		f.retry(f.claimOne(base, ds[0].ID), at(time.Second), at(time.Minute))
		require.Equal(t, "HTTP 500 (attempt 1)", f.getDelivery(ds[0].ID).LastError)
		f.succeed(f.claimOne(at(time.Minute), ds[0].ID), at(time.Minute))
		got := f.getDelivery(ds[0].ID)
		assert.Equal(t, webhook.StateSucceeded, got.State)
		assert.Empty(t, got.LastError)
	})

	t.Run("a pending delivery is not queued again", func(t *testing.T) {
		f, _, ds := ended(t)
		n, err := f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: ds[3].ID, Now: now})
		require.NoError(t, err)
		assert.Zero(t, n)
		assertTime(t, at(4*time.Minute), f.getDelivery(ds[3].ID).NextAttemptAt, "NextAttemptAt")
	})

	t.Run("the endpoint's failed deliveries since Since", func(t *testing.T) {
		f, ep, ds := ended(t)
		n, err := f.s.Requeue(f.ctx, webhook.RequeueParams{EndpointID: ep.ID, Since: at(3 * time.Second), Now: now})
		require.NoError(t, err)
		assert.Equal(t, 1, n, "only the failed delivery created at or after Since")
		assert.Equal(t, webhook.StateFailed, f.getDelivery(ds[1].ID).State)
		assert.Equal(t, webhook.StatePending, f.getDelivery(ds[2].ID).State)
		assert.Zero(t, f.getDelivery(ds[2].ID).Attempts)

		n, err = f.s.Requeue(f.ctx, webhook.RequeueParams{EndpointID: ep.ID, Now: now})
		require.NoError(t, err)
		assert.Equal(t, 1, n, "zero Since: every failed delivery left")
		assert.Equal(t, webhook.StateSucceeded, f.getDelivery(ds[0].ID).State, "succeeded deliveries are not recovered")
		assert.ElementsMatch(t, ids(ds[1:]), deliveryIDs(f.claim(now, 10)))
	})

	t.Run("deliveries of a disabled endpoint are not queued", func(t *testing.T) {
		f, ep, ds := ended(t)
		require.NoError(t, f.s.DisableEndpoint(f.ctx, ep.ID, "manual", at(30*time.Minute)))
		n, err := f.s.Requeue(f.ctx, webhook.RequeueParams{EndpointID: ep.ID, Now: now})
		require.NoError(t, err)
		assert.Zero(t, n)
		n, err = f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: ds[0].ID, Now: now})
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.Empty(t, f.claim(now, 10))

		// Once enabled, recovery brings back every failed delivery,
		// including the one the disable ended.
		require.NoError(t, f.s.EnableEndpoint(f.ctx, ep.ID, now))
		n, err = f.s.Requeue(f.ctx, webhook.RequeueParams{EndpointID: ep.ID, Now: now})
		require.NoError(t, err)
		assert.Equal(t, 3, n)
		assert.ElementsMatch(t, ids(ds[1:]), deliveryIDs(f.claim(now, 10)))
	})

	t.Run("unknown delivery or endpoint is ErrNotFound", func(t *testing.T) {
		f := setup(t, newStore)
		_, err := f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: uuid.NewString(), Now: now})
		require.ErrorIs(t, err, webhook.ErrNotFound)
		_, err = f.s.Requeue(f.ctx, webhook.RequeueParams{EndpointID: uuid.NewString(), Now: now})
		require.ErrorIs(t, err, webhook.ErrNotFound)
	})

	t.Run("neither or both of DeliveryID and EndpointID is ErrInvalid", func(t *testing.T) {
		f, ep, ds := ended(t)
		_, err := f.s.Requeue(f.ctx, webhook.RequeueParams{Now: now})
		require.ErrorIs(t, err, webhook.ErrInvalid)
		_, err = f.s.Requeue(f.ctx, webhook.RequeueParams{DeliveryID: ds[1].ID, EndpointID: ep.ID, Now: now})
		require.ErrorIs(t, err, webhook.ErrInvalid)
		assert.Equal(t, webhook.StateFailed, f.getDelivery(ds[1].ID).State)
	})
}
