package webhook_test

import (
	"context"
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
				if n > 64 {
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
