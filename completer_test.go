package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// batchStore is a memstore whose CompleteBatch takes a while, as a commit
// does, and counts its batches.
type batchStore struct {
	*memstore.Store
	mu      sync.Mutex
	batches []int
	singles atomic.Int64
}

func (s *batchStore) CompleteBatch(ctx context.Context, cs []webhook.Completion) ([]webhook.CompletionResult, error) {
	time.Sleep(5 * time.Millisecond)
	s.mu.Lock()
	s.batches = append(s.batches, len(cs))
	s.mu.Unlock()
	return s.Store.CompleteBatch(ctx, cs)
}

func (s *batchStore) Complete(ctx context.Context, c webhook.Completion) (*webhook.Endpoint, bool, error) {
	s.singles.Add(1)
	return s.Store.Complete(ctx, c)
}

// TestCompleterBatches: finished attempts are recorded together, every one
// of them once, each attempt reported to OnAttempt after its batch; with
// a Store that is no BatchCompleter, each is recorded by Complete.
func TestCompleterBatches(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	const events = 200
	for _, batched := range []bool{true, false} {
		name := map[bool]string{true: "batched", false: "fallback"}[batched]
		t.Run(name, func(t *testing.T) {
			bs := &batchStore{Store: memstore.New()}
			var store webhook.Store = bs
			if !batched {
				store = plainStore{bs}
			}
			var reported atomic.Int64
			d, err := webhook.NewDispatcher(store, &webhook.Config{
				AllowPrivateNetworks:   true,
				Workers:                64,
				MaxInFlightPerEndpoint: 64,
				PollInterval:           5 * time.Millisecond,
				OnAttempt: func(r webhook.AttemptResult) {
					if r.Outcome == webhook.OutcomeSuccess && r.Endpoint.ID != "" {
						reported.Add(1)
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			mustEndpoint(t, d, "t", srv.URL)
			for range events {
				mustPublish(t, d, "t")
			}
			if err := d.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			for reported.Load() < events && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := d.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if got := reported.Load(); got != events {
				t.Fatalf("OnAttempt reported %d successes, want %d", got, events)
			}
			bs.mu.Lock()
			defer bs.mu.Unlock()
			total := 0
			for _, n := range bs.batches {
				total += n
				if n > 256 {
					t.Errorf("a batch of %d: more than the most", n)
				}
			}
			if batched {
				if total != events || bs.singles.Load() != 0 {
					t.Fatalf("batched %d, single %d; want %d batched", total, bs.singles.Load(), events)
				}
				if len(bs.batches) > events/2 {
					t.Errorf("%d batches for %d completions: they are not grouped", len(bs.batches), events)
				}
				t.Logf("%d batches for %d completions", len(bs.batches), events)
			} else if total != 0 || bs.singles.Load() != events {
				t.Fatalf("batched %d, single %d; want %d single", total, bs.singles.Load(), events)
			}
			list, _, err := bs.Store.ListDeliveries(context.Background(), webhook.DeliveryFilter{State: webhook.StateSucceeded, Limit: 1000})
			if err != nil || len(list) != events {
				t.Fatalf("%d succeeded deliveries (%v), want %d", len(list), err, events)
			}
		})
	}
}

// flakyBatchStore fails its first CompleteBatch, as a deadlock or a lost
// connection would, having written nothing.
type flakyBatchStore struct {
	*memstore.Store
	failed atomic.Bool
}

func (s *flakyBatchStore) CompleteBatch(ctx context.Context, cs []webhook.Completion) ([]webhook.CompletionResult, error) {
	if s.failed.CompareAndSwap(false, true) {
		return nil, errors.New("deadlock detected")
	}
	return s.Store.CompleteBatch(ctx, cs)
}

// TestCompleterRetriesAFailedBatch: a batch that fails is tried again at
// once, so its attempts are recorded now rather than sent again when
// their leases end (a lease of an hour here: a delivery left leased would
// not be done within the test).
func TestCompleterRetriesAFailedBatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	store := &flakyBatchStore{Store: memstore.New()}
	var reported atomic.Int64
	d, err := webhook.NewDispatcher(store, &webhook.Config{
		AllowPrivateNetworks: true,
		PollInterval:         5 * time.Millisecond,
		Lease:                time.Hour,
		OnAttempt:            func(webhook.AttemptResult) { reported.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	mustEndpoint(t, d, "t", srv.URL)
	const events = 20
	for range events {
		mustPublish(t, d, "t")
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Shutdown(ctx)
	})
	deadline := time.Now().Add(10 * time.Second)
	for reported.Load() < events && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !store.failed.Load() {
		t.Fatal("the first batch did not fail: the test tests nothing")
	}
	list, _, err := store.Store.ListDeliveries(context.Background(), webhook.DeliveryFilter{State: webhook.StateSucceeded, Limit: 100})
	if err != nil || len(list) != events || reported.Load() != events {
		t.Fatalf("%d succeeded deliveries (%v), %d reported; want %d", len(list), err, reported.Load(), events)
	}
}
