package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// doerFunc is a Doer made of a function.
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// completeStore wraps a memstore, running complete in place of Complete.
type completeStore struct {
	*memstore.Store
	complete func(ctx context.Context, c webhook.Completion) (*webhook.Endpoint, bool, error)
}

func (s *completeStore) Complete(ctx context.Context, c webhook.Completion) (*webhook.Endpoint, bool, error) {
	return s.complete(ctx, c)
}

// CompleteBatch runs complete for each completion, so that the dispatcher's
// batched path meets the same stuck or slow Complete.
func (s *completeStore) CompleteBatch(ctx context.Context, cs []webhook.Completion) ([]webhook.CompletionResult, error) {
	out := make([]webhook.CompletionResult, len(cs))
	for i, c := range cs {
		ep, disabled, err := s.complete(ctx, c)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out[i] = webhook.CompletionResult{Endpoint: ep, Disabled: disabled, Err: err}
	}
	return out, nil
}

// signal sends on ch without blocking.
func signal(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Shutdown returns when its context ends, however the attempt in flight is
// stuck: in a Client that ignores its request's context, in an OnAttempt
// hook, or in a Store.Complete that waits for its context to end.
func TestShutdownReturnsWhenItsContextEnds(t *testing.T) {
	tests := []struct {
		name string
		// stick returns a store and config whose one attempt blocks at
		// some point, telling entered once it does, until release closes.
		stick func(entered chan<- struct{}, release <-chan struct{}) (webhook.Store, webhook.Config)
		// recorded: the attempt reached the store before Shutdown ended.
		recorded bool
	}{
		{"client ignores its context", func(entered chan<- struct{}, release <-chan struct{}) (webhook.Store, webhook.Config) {
			return memstore.New(), webhook.Config{Client: doerFunc(func(*http.Request) (*http.Response, error) {
				signal(entered)
				<-release // not ctx.Done()
				w := httptest.NewRecorder()
				w.WriteHeader(http.StatusOK)
				return w.Result(), nil
			})}
		}, false},
		{"blocking OnAttempt hook", func(entered chan<- struct{}, release <-chan struct{}) (webhook.Store, webhook.Config) {
			return memstore.New(), webhook.Config{OnAttempt: func(webhook.AttemptResult) {
				signal(entered)
				<-release
			}}
		}, true},
		{"Complete waits for its context", func(entered chan<- struct{}, release <-chan struct{}) (webhook.Store, webhook.Config) {
			s := &completeStore{Store: memstore.New()}
			s.complete = func(ctx context.Context, _ webhook.Completion) (*webhook.Endpoint, bool, error) {
				signal(entered)
				<-ctx.Done()
				return nil, false, ctx.Err()
			}
			return s, webhook.Config{}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entered := make(chan struct{}, 1)
			release := make(chan struct{})
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			// Runs before the cleanups registered earlier (the receiver's
			// server Close): the stuck goroutines must end for -race and
			// the goroutine checks of later tests.
			t.Cleanup(func() {
				unblock()
				assertNoDispatcherGoroutines(t)
			})
			store, cfg := tt.stick(entered, release)
			cfg.AllowPrivateNetworks = true
			cfg.PollInterval = 5 * time.Millisecond
			d, err := webhook.NewDispatcher(store, &cfg)
			require.NoError(t, err)
			rc := webhooktest.NewReceiver(t)
			ctx := context.Background()
			_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{URL: rc.URL()})
			require.NoError(t, err)
			_, err = d.Publish(ctx, webhook.Event{Type: "post.created"})
			require.NoError(t, err)
			require.NoError(t, d.Start(ctx))
			select {
			case <-entered:
			case <-time.After(15 * time.Second):
				t.Fatal("the attempt never got stuck")
			}

			sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- d.Shutdown(sctx) }()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Less(t, time.Since(start), 2*time.Second)
			case <-time.After(2 * time.Second):
				unblock()
				<-done
				t.Fatal("Shutdown overran its context by more than 1.8 s")
			}
			if !tt.recorded {
				ds, _, err := d.ListDeliveries(ctx, webhook.DeliveryFilter{})
				require.NoError(t, err)
				require.Len(t, ds, 1)
				assert.Equal(t, webhook.StatePending, ds[0].State, "not recorded: sent again after its lease")
				assert.Equal(t, 0, ds[0].Attempts)
			}
		})
	}
}

// Recording an attempt is bounded by min(RequestTimeout, 10 s), which
// Config.Lease must exceed together with RequestTimeout.
func TestRecordingIsBoundedForTheLease(t *testing.T) {
	tests := []struct {
		name   string
		cfg    webhook.Config
		record time.Duration
	}{
		{"short request timeout", webhook.Config{RequestTimeout: time.Second, Lease: 3 * time.Second}, time.Second},
		{"defaults", webhook.Config{}, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			left := make(chan time.Duration, 1)
			s := &completeStore{Store: memstore.New()}
			s.complete = func(ctx context.Context, c webhook.Completion) (*webhook.Endpoint, bool, error) {
				if dl, ok := ctx.Deadline(); ok {
					left <- time.Until(dl)
				} else {
					left <- -1
				}
				return s.Store.Complete(ctx, c)
			}
			cfg := tt.cfg
			cfg.AllowPrivateNetworks = true
			cfg.PollInterval = 5 * time.Millisecond
			d, err := webhook.NewDispatcher(s, &cfg)
			require.NoError(t, err)
			rc := webhooktest.NewReceiver(t)
			ctx := context.Background()
			_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{URL: rc.URL()})
			require.NoError(t, err)
			_, err = d.Publish(ctx, webhook.Event{Type: "post.created"})
			require.NoError(t, err)
			require.NoError(t, d.Start(ctx))
			defer func() { assert.NoError(t, d.Shutdown(ctx)) }()
			select {
			case got := <-left:
				assert.Greater(t, got, time.Duration(0), "Complete has a deadline")
				assert.LessOrEqual(t, got, tt.record)
			case <-time.After(15 * time.Second):
				t.Fatal("never recorded")
			}
		})
	}
}
