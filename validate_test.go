package webhook_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/internal/badinput"
	"github.com/outhook/webhook/memstore"
)

// TestBadInputIsRefusedOnEveryEntryPoint runs every public entry point with
// NUL bytes, invalid UTF-8, impossible IDs and out-of-range times: each
// answers ErrInvalid (a *ValidationError) or ErrNotFound, none of it
// reaches the Store, and nothing stored changes. The integration module
// runs the same table on sqlstore.
func TestBadInputIsRefusedOnEveryEntryPoint(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	cfg := &webhook.Config{Clock: func() time.Time { return now }}
	store := memstore.New()
	d, err := webhook.NewDispatcher(store, cfg)
	require.NoError(t, err)
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{
		TenantID: "acme", Name: "production", URL: "https://example.com/hook",
		Events: []string{"post.*"}, Headers: http.Header{"X-Token": {"t"}},
	})
	require.NoError(t, err)
	ev, err := d.Publish(ctx, webhook.Event{TenantID: "acme", Type: "post.created"})
	require.NoError(t, err)
	f := badinput.Fixture{TenantID: "acme", EndpointID: ep.ID, EventType: "post.created", EventID: ev.ID}
	before, err := badinput.Take(ctx, store, f, now)
	require.NoError(t, err)
	require.Len(t, before.Deliveries, 1)

	var (
		mu      sync.Mutex
		reached []string
	)
	guarded, err := webhook.NewDispatcher(badinput.Guard(store, func(s string) {
		mu.Lock()
		reached = append(reached, s)
		mu.Unlock()
	}), cfg)
	require.NoError(t, err)
	for _, c := range badinput.Calls(f) {
		t.Run(c.Name, func(t *testing.T) {
			mu.Lock()
			reached = nil
			mu.Unlock()
			err := c.Do(ctx, guarded)
			require.ErrorIs(t, err, c.Want)
			if c.Want == webhook.ErrInvalid {
				var ve *webhook.ValidationError
				assert.True(t, errors.As(err, &ve), "%v is not a *ValidationError", err)
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Empty(t, reached, "the Store was reached")
		})
	}
	after, err := badinput.Take(ctx, store, f, now)
	require.NoError(t, err)
	assert.Equal(t, before, after, "something stored changed")
	for _, bt := range badinput.Texts {
		eps, err := store.ListEndpoints(ctx, bt.S)
		require.NoError(t, err)
		assert.Empty(t, eps, "an endpoint was stored for tenant %q", bt.S)
	}
}

// TestLabelsRejectControlCharacters: names and tenant IDs are shown in
// dashboards and logs, so control characters are refused there, also when
// publishing and listing.
func TestLabelsRejectControlCharacters(t *testing.T) {
	ctx := context.Background()
	d, err := webhook.NewDispatcher(memstore.New(), nil)
	require.NoError(t, err)
	for _, s := range []string{"a\nb", "a\rb", "a\x1bb", "a\x7fb", "a\u0085b", "a\tb"} {
		_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: s, URL: "https://example.com/"})
		assertField(t, err, "TenantID")
		_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{Name: s, URL: "https://example.com/"})
		assertField(t, err, "Name")
		_, err = d.Publish(ctx, webhook.Event{TenantID: s, Type: "post.created"})
		assertField(t, err, "TenantID")
		_, err = d.ListEndpoints(ctx, s)
		assertField(t, err, "TenantID")
	}
	// Non-ASCII text is fine.
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "café", Name: "Zürich – prod 🚀", URL: "https://example.com/ü"})
	require.NoError(t, err)
	eps, err := d.ListEndpoints(ctx, "café")
	require.NoError(t, err)
	require.Len(t, eps, 1)
	assert.Equal(t, ep.Name, eps[0].Name)
}

func assertField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *webhook.ValidationError
	if assert.True(t, errors.As(err, &ve), "%v is not a *ValidationError", err) {
		assert.Equal(t, field, ve.Field)
	}
}

// TestEventCreatedAtRange: a CreatedAt outside 1970 to 2262 is refused (an
// SQL store would have wrapped year 3000 around to 1830); the bounds
// themselves are inclusive and exclusive as documented.
func TestEventCreatedAtRange(t *testing.T) {
	ctx := context.Background()
	d, err := webhook.NewDispatcher(memstore.New(), nil)
	require.NoError(t, err)
	tests := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"epoch", time.Unix(0, 0), true},
		{"just before the end", time.Date(2261, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{"before the epoch", time.Unix(-1, 0), false},
		{"year 2262", time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"year 3000", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"year 1", time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Publish(ctx, webhook.Event{Type: "post.created", CreatedAt: tt.at})
			if tt.ok {
				require.NoError(t, err)
				assert.True(t, got.CreatedAt.Equal(tt.at))
				return
			}
			assertField(t, err, "CreatedAt")
		})
	}
}

// TestRotateSecretGraceIsClamped: a grace beyond what every Store can hold
// ends at the start of 2262 instead of wrapping into the past; the old
// secret keeps signing.
func TestRotateSecretGraceIsClamped(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	store := memstore.New()
	d, err := webhook.NewDispatcher(store, &webhook.Config{Clock: func() time.Time { return now }})
	require.NoError(t, err)
	limit := time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, grace := range []time.Duration{math.MaxInt64, 250 * 365 * 24 * time.Hour} {
		ep, old, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "https://example.com/"})
		require.NoError(t, err)
		next, err := d.RotateSecret(ctx, ep.ID, grace)
		require.NoError(t, err)
		secrets, err := store.EndpointSecrets(ctx, ep.ID, now.Add(100*365*24*time.Hour))
		require.NoError(t, err)
		require.Len(t, secrets, 2, "the old secret still signs a century later")
		assert.Equal(t, next, secrets[0].Value)
		assert.Equal(t, old, secrets[1].Value)
		assert.True(t, secrets[1].ExpiresAt.Equal(limit), "old secret expires %v, want %v", secrets[1].ExpiresAt, limit)
	}
	// A shorter grace is kept as given.
	ep, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "https://example.com/"})
	require.NoError(t, err)
	_, err = d.RotateSecret(ctx, ep.ID, 10*365*24*time.Hour)
	require.NoError(t, err)
	secrets, err := store.EndpointSecrets(ctx, ep.ID, now)
	require.NoError(t, err)
	require.Len(t, secrets, 2)
	assert.True(t, secrets[1].ExpiresAt.Equal(now.Add(10*365*24*time.Hour)))
}
