package webhook_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

func TestDefaultLogIsQuietWhileDeliveriesSucceed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		level     slog.Level
		delivered bool
	}{
		{"info", slog.LevelInfo, false},
		{"debug", slog.LevelDebug, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			f := setup(t, func(c *webhook.Config) {
				c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level}))
			})
			rc := webhooktest.NewReceiver(t, webhooktest.WithResponder(func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					w.WriteHeader(http.StatusInternalServerError)
				}
			}))
			f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
			f.publish(t, webhook.Event{Type: "post.created"})
			eventually(t, func() bool { return len(f.hooks.results()) == 2 }, "failed once, then delivered")
			require.NoError(t, f.d.Shutdown(context.Background())) // every line written
			out := buf.String()
			assert.Equal(t, tc.delivered, strings.Contains(out, "webhook: delivered"), "a success is logged at Debug only:\n%s", out)
			assert.Contains(t, out, "webhook: attempt failed; will retry", "a retry is logged at Info")
		})
	}
}

// storeOnly hides every optional ability of the Store it wraps.
type storeOnly struct{ webhook.Store }

func TestStats(t *testing.T) {
	ctx := context.Background()
	t.Run("counts what the store holds, ages from Now", func(t *testing.T) {
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{AllowPrivateNetworks: true, Clock: func() time.Time { return now }})
		require.NoError(t, err)
		ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: "http://127.0.0.1:1/hook"})
		require.NoError(t, err)
		_, err = d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "acme"})
		require.NoError(t, err)
		now = now.Add(90 * time.Second)

		st, err := d.Stats(ctx, webhook.StatsParams{TenantID: "acme", ByEndpoint: true, Window: time.Hour})
		require.NoError(t, err)
		assert.Equal(t, now, st.Now, "a zero Now is the Clock's")
		assert.Equal(t, time.Hour, st.Window)
		assert.Equal(t, 1, st.Pending)
		assert.Equal(t, 90*time.Second, st.OldestPendingAge)
		require.Contains(t, st.Endpoints, ep.ID)
		assert.Equal(t, 90*time.Second, st.Endpoints[ep.ID].OldestPendingAge)
		assert.Equal(t, 1, st.Endpoints[ep.ID].Pending)

		st, err = d.Stats(ctx, webhook.StatsParams{Now: now.Add(-time.Hour)})
		require.NoError(t, err)
		assert.Zero(t, st.OldestPendingAge, "never negative")
		assert.Nil(t, st.Endpoints)
	})

	t.Run("ErrNotSupported without a StatsReader", func(t *testing.T) {
		d, err := webhook.NewDispatcher(storeOnly{memstore.New()}, nil)
		require.NoError(t, err)
		_, err = d.Stats(ctx, webhook.StatsParams{})
		require.ErrorIs(t, err, webhook.ErrNotSupported)
	})

	t.Run("rejects bad input", func(t *testing.T) {
		d, err := webhook.NewDispatcher(memstore.New(), nil)
		require.NoError(t, err)
		many := make([]string, webhook.MaxStatsEndpointIDs+1)
		for i := range many {
			many[i] = "ep"
		}
		for _, tc := range []struct {
			name  string
			p     webhook.StatsParams
			field string
		}{
			{"negative window", webhook.StatsParams{Window: -time.Second}, "Window"},
			{"window too long", webhook.StatsParams{Window: webhook.StatsWindowMax + 1}, "Window"},
			{"tenant with a control character", webhook.StatsParams{TenantID: "a\x00b"}, "TenantID"},
			{"empty endpoint ID", webhook.StatsParams{EndpointIDs: []string{""}}, "EndpointIDs"},
			{"too many endpoint IDs", webhook.StatsParams{EndpointIDs: many}, "EndpointIDs"},
			{"Now out of range", webhook.StatsParams{Now: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, "Now"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := d.Stats(ctx, tc.p)
				var ve *webhook.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tc.field, ve.Field)
			})
		}
	})
}

type ctxKey struct{}

// recordingDoer is a Client that records each request's context value
// under ctxKey before handing it to the wrapped Doer.
type recordingDoer struct {
	next webhook.Doer
	mu   sync.Mutex
	seen []any
}

func (r *recordingDoer) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Context().Value(ctxKey{}))
	r.mu.Unlock()
	return r.next.Do(req)
}

func (r *recordingDoer) values() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.seen...)
}

func TestEventMetadataReachesTheAttempt(t *testing.T) {
	var (
		wrapped *recordingDoer
		mu      sync.Mutex
		claims  []map[string]string
	)
	f := setup(t, func(c *webhook.Config) {
		c.EventMetadata = func(ctx context.Context) map[string]string {
			if v, ok := ctx.Value(ctxKey{}).(string); ok {
				return map[string]string{"traceparent": v}
			}
			return nil
		}
		c.AttemptContext = func(ctx context.Context, cl *webhook.Claim) context.Context {
			mu.Lock()
			claims = append(claims, cl.Metadata)
			mu.Unlock()
			return context.WithValue(ctx, ctxKey{}, "attempt of "+cl.Metadata["traceparent"])
		}
		c.WrapClient = func(next webhook.Doer) webhook.Doer {
			require.NotNil(t, next, "the default client is built first")
			wrapped = &recordingDoer{next: next}
			return wrapped
		}
	})
	rc := webhooktest.NewReceiver(t)
	f.endpoint(t, webhook.EndpointParams{URL: rc.URL()})
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ev, err := f.d.Publish(context.WithValue(context.Background(), ctxKey{}, tp), webhook.Event{Type: "post.created"})
	require.NoError(t, err)
	eventually(t, func() bool { return rc.Len() == 1 }, "delivered")

	stored, err := f.d.GetEvent(context.Background(), ev.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"traceparent": tp}, stored.Metadata)
	mu.Lock()
	assert.Equal(t, []map[string]string{{"traceparent": tp}}, claims)
	mu.Unlock()
	assert.Equal(t, []any{"attempt of " + tp}, wrapped.values(), "the request carries AttemptContext's context")
	assert.NotContains(t, rc.Requests()[0].Header, "Traceparent", "nothing is sent to the receiver")

	// Without a value in ctx, the hook returns nil: no metadata.
	plain := f.publish(t, webhook.Event{Type: "post.created"})
	stored, err = f.d.GetEvent(context.Background(), plain.ID)
	require.NoError(t, err)
	assert.Nil(t, stored.Metadata)
}

func TestEventMetadataIsValidated(t *testing.T) {
	big := strings.Repeat("x", webhook.MaxMetadataBytes)
	many := map[string]string{}
	for i := 0; i <= webhook.MaxMetadataEntries; i++ {
		many[strings.Repeat("k", i+1)] = "v"
	}
	for _, tc := range []struct {
		name string
		md   map[string]string
	}{
		{"too many entries", many},
		{"too many bytes", map[string]string{"tracestate": big}},
		{"key with a space", map[string]string{"trace parent": "x"}},
		{"empty key", map[string]string{"": "x"}},
		{"key too long", map[string]string{strings.Repeat("k", webhook.MaxMetadataKeyLen+1): "x"}},
		{"value with NUL", map[string]string{"k": "a\x00b"}},
		{"value not UTF-8", map[string]string{"k": "\xff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memstore.New()
			d, err := webhook.NewDispatcher(store, &webhook.Config{
				EventMetadata: func(context.Context) map[string]string { return tc.md },
			})
			require.NoError(t, err)
			_, err = d.Publish(context.Background(), webhook.Event{ID: "ev-1", Type: "post.created"})
			var ve *webhook.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "Metadata", ve.Field)
			_, err = store.GetEvent(context.Background(), "ev-1")
			assert.ErrorIs(t, err, webhook.ErrNotFound, "nothing stored")
		})
	}
}

func TestWrapClientReturningNilIsAConfigError(t *testing.T) {
	_, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{WrapClient: func(webhook.Doer) webhook.Doer { return nil }})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WrapClient")
}
