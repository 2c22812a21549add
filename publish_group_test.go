package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// slowBatchStore is a memstore whose EnqueueMatchingBatch takes a while,
// so concurrent Publish calls pile up into batches, and fails batches
// holding an event of tenant "bad", whose EnqueueMatching fails too.
type slowBatchStore struct {
	*memstore.Store
	delay   time.Duration
	batches atomic.Int64
	largest atomic.Int64
	failAll bool
}

var errBad = errors.New("bad tenant")

func (s *slowBatchStore) EnqueueMatching(ctx context.Context, ev *webhook.StoredEvent, now time.Time) (int, error) {
	if ev.TenantID == "bad" {
		return 0, errBad
	}
	time.Sleep(s.delay)
	return s.Store.EnqueueMatching(ctx, ev, now)
}

func (s *slowBatchStore) EnqueueMatchingBatch(ctx context.Context, evs []*webhook.StoredEvent, now time.Time) ([]webhook.MatchResult, error) {
	s.batches.Add(1)
	for {
		l := s.largest.Load()
		if int64(len(evs)) <= l || s.largest.CompareAndSwap(l, int64(len(evs))) {
			break
		}
	}
	time.Sleep(s.delay)
	if s.failAll {
		return nil, errors.New("batch failed")
	}
	for _, ev := range evs {
		if ev.TenantID == "bad" {
			return nil, errBad
		}
	}
	return s.Store.EnqueueMatchingBatch(ctx, evs, now)
}

func groupDispatcher(t *testing.T, s *slowBatchStore) *webhook.Dispatcher {
	t.Helper()
	d, err := webhook.NewDispatcher(s, nil)
	require.NoError(t, err)
	for _, tenant := range []string{"t", "bad"} {
		_, _, err = d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: tenant, URL: "https://example.com/hook"})
		require.NoError(t, err)
	}
	_, _, err = d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: "t", URL: "https://example.com/users", Events: []string{"user.*"}})
	require.NoError(t, err)
	return d
}

// publishAll publishes n events from each of g goroutines and returns
// each call's event and error.
func publishAll(d *webhook.Dispatcher, g, n int, event func(g, i int) webhook.Event) ([]webhook.Event, []error) {
	evs := make([]webhook.Event, g*n)
	errs := make([]error, g*n)
	var wg sync.WaitGroup
	for j := 0; j < g; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				evs[j*n+i], errs[j*n+i] = d.Publish(context.Background(), event(j, i))
			}
		}()
	}
	wg.Wait()
	return evs, errs
}

// TestPublishGroup: concurrent Publish calls go to the Store in batches,
// and each gets the deliveries its own Publish would have made.
func TestPublishGroup(t *testing.T) {
	s := &slowBatchStore{Store: memstore.New(), delay: 2 * time.Millisecond}
	d := groupDispatcher(t, s)
	evs, errs := publishAll(d, 8, 20, func(g, i int) webhook.Event {
		typ := "post.created"
		if i%2 == 1 {
			typ = "user.deleted"
		}
		return webhook.Event{Type: typ, TenantID: "t"}
	})
	for i, ev := range evs {
		require.NoError(t, errs[i])
		ds, _, err := s.ListDeliveries(context.Background(), webhook.DeliveryFilter{EventID: ev.ID})
		require.NoError(t, err)
		want := 1
		if ev.Type == "user.deleted" {
			want = 2
		}
		assert.Len(t, ds, want, "deliveries of %s", ev.Type)
	}
	assert.Positive(t, s.batches.Load(), "batches sent")
	assert.Greater(t, s.largest.Load(), int64(1), "some batch held several calls")
}

// TestPublishGroupFailure: a batch that fails is retried call by call, so
// one bad event fails alone and the others are published.
func TestPublishGroupFailure(t *testing.T) {
	for _, failAll := range []bool{false, true} {
		t.Run(fmt.Sprintf("failAll=%v", failAll), func(t *testing.T) {
			s := &slowBatchStore{Store: memstore.New(), delay: 2 * time.Millisecond, failAll: failAll}
			d := groupDispatcher(t, s)
			evs, errs := publishAll(d, 8, 10, func(g, i int) webhook.Event {
				tenant := "t"
				if g == 3 && i%3 == 0 {
					tenant = "bad"
				}
				return webhook.Event{Type: "post.created", TenantID: tenant, ID: fmt.Sprintf("e-%d-%d", g, i)}
			})
			for i, err := range errs {
				g, n := i/10, i%10
				if g == 3 && n%3 == 0 {
					require.ErrorIs(t, err, errBad)
					_, gerr := s.GetEvent(context.Background(), fmt.Sprintf("e-%d-%d", g, n))
					require.ErrorIs(t, gerr, webhook.ErrNotFound)
					continue
				}
				require.NoError(t, err)
				ds, _, err := s.ListDeliveries(context.Background(), webhook.DeliveryFilter{EventID: evs[i].ID})
				require.NoError(t, err)
				assert.Len(t, ds, 1)
			}
		})
	}
}

// TestPublishGroupSameID: concurrent Publish calls with one event ID
// store it once with its deliveries once, and all succeed.
func TestPublishGroupSameID(t *testing.T) {
	s := &slowBatchStore{Store: memstore.New(), delay: time.Millisecond}
	d := groupDispatcher(t, s)
	_, errs := publishAll(d, 8, 5, func(g, i int) webhook.Event {
		return webhook.Event{Type: "post.created", TenantID: "t", ID: fmt.Sprintf("same-%d", i)}
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	for i := 0; i < 5; i++ {
		ds, _, err := s.ListDeliveries(context.Background(), webhook.DeliveryFilter{EventID: fmt.Sprintf("same-%d", i)})
		require.NoError(t, err)
		assert.Len(t, ds, 1)
	}
	// Another tenant's event under a taken ID is a clash, in a batch too.
	_, errs = publishAll(d, 4, 1, func(g, i int) webhook.Event {
		return webhook.Event{Type: "post.created", TenantID: "u", ID: "same-0"}
	})
	for _, err := range errs {
		require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
	}
}

// TestPublishGroupCancelWhileQueued: a call whose context ends while it
// waits for the statement in flight returns at once and stores nothing.
func TestPublishGroupCancelWhileQueued(t *testing.T) {
	s := &slowBatchStore{Store: memstore.New(), delay: 200 * time.Millisecond}
	d := groupDispatcher(t, s)
	// Two calls in flight: as many as a group keeps.
	first := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			_, err := d.Publish(context.Background(), webhook.Event{Type: "post.created", TenantID: "t", ID: fmt.Sprint("first-", i)})
			first <- err
		}()
	}
	time.Sleep(50 * time.Millisecond) // both are in flight
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "t", ID: "queued"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 150*time.Millisecond)
	require.NoError(t, <-first)
	require.NoError(t, <-first)
	time.Sleep(50 * time.Millisecond)
	_, err = s.GetEvent(context.Background(), "queued")
	require.ErrorIs(t, err, webhook.ErrNotFound)
}
