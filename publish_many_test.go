package webhook_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

func newManyDispatcher(t *testing.T, store webhook.Store) (*webhook.Dispatcher, webhook.Store) {
	t.Helper()
	d, err := webhook.NewDispatcher(store, &webhook.Config{})
	require.NoError(t, err)
	return d, store
}

func countDeliveries(t *testing.T, s webhook.Store, f webhook.DeliveryFilter) int {
	t.Helper()
	f.Limit = 1000
	ds, _, err := s.ListDeliveries(context.Background(), f)
	require.NoError(t, err)
	return len(ds)
}

func TestPublishMany(t *testing.T) {
	for name, wrap := range map[string]func(webhook.Store) webhook.Store{
		"ManyEnqueuer":      func(s webhook.Store) webhook.Store { return s },
		"Enqueue per event": func(s webhook.Store) webhook.Store { return plainStore{s} },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			d, s := newManyDispatcher(t, wrap(memstore.New()))
			_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: "https://a.example.com/"})
			require.NoError(t, err)
			_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: "https://b.example.com/", Events: []string{"post.*"}})
			require.NoError(t, err)
			_, _, err = d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "globex", URL: "https://c.example.com/"})
			require.NoError(t, err)

			first, err := d.Publish(ctx, webhook.Event{ID: "old", Type: "post.created", TenantID: "acme", CreatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
			require.NoError(t, err)
			out, err := d.PublishMany(ctx, []webhook.Event{
				{Type: "post.created", TenantID: "acme", Data: 1},
				{ID: "v1", Type: "vote.cast", TenantID: "acme"},
				{Type: "post.created", TenantID: "globex"},
				{ID: "old", Type: "post.created", TenantID: "acme"}, // a retry of the published one
				{ID: "v1", Type: "vote.cast", TenantID: "acme"},     // a retry within the batch
				{Type: "post.created", TenantID: "nobody"},
			})
			require.NoError(t, err)
			require.Len(t, out, 6)
			for _, ev := range out {
				assert.NotEmpty(t, ev.ID)
				assert.False(t, ev.CreatedAt.IsZero())
			}
			assert.Equal(t, first.CreatedAt, out[3].CreatedAt, "a retry returns the stored CreatedAt")
			assert.Equal(t, out[1].CreatedAt, out[4].CreatedAt)
			assert.Equal(t, 2, countDeliveries(t, s, webhook.DeliveryFilter{EventID: out[0].ID}), "both acme endpoints")
			assert.Equal(t, 1, countDeliveries(t, s, webhook.DeliveryFilter{EventID: "v1"}), "the filter applies, and the repeat adds none")
			assert.Equal(t, 1, countDeliveries(t, s, webhook.DeliveryFilter{EventID: out[2].ID}))
			assert.Equal(t, 2, countDeliveries(t, s, webhook.DeliveryFilter{EventID: "old"}), "the retry adds none")
			_, err = s.GetEvent(ctx, out[5].ID)
			require.NoError(t, err, "an event no endpoint gets is stored")
		})
	}
}

func TestPublishManyInvalidStoresNothing(t *testing.T) {
	ctx := context.Background()
	d, s := newManyDispatcher(t, memstore.New())
	_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "https://a.example.com/"})
	require.NoError(t, err)
	_, err = d.PublishMany(ctx, []webhook.Event{
		{ID: "fine", Type: "post.created"},
		{ID: "bad id", Type: "post.created"},
	})
	var be *webhook.BatchError
	require.True(t, errors.As(err, &be), "got %v", err)
	assert.Equal(t, 1, be.Index)
	var ve *webhook.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "ID", ve.Field)
	_, err = s.GetEvent(ctx, "fine")
	require.ErrorIs(t, err, webhook.ErrNotFound, "nothing stored")

	_, err = d.PublishMany(ctx, []webhook.Event{
		{ID: "x", Type: "post.created"},
		{ID: "x", Type: "post.updated"},
	})
	require.True(t, errors.As(err, &be), "got %v", err)
	assert.Equal(t, 1, be.Index)
	require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
	_, err = s.GetEvent(ctx, "x")
	require.ErrorIs(t, err, webhook.ErrNotFound)
}

func TestPublishManyClashStoresNothing(t *testing.T) {
	ctx := context.Background()
	d, s := newManyDispatcher(t, memstore.New())
	_, err := d.Publish(ctx, webhook.Event{ID: "taken", Type: "post.created", TenantID: "acme"})
	require.NoError(t, err)
	_, err = d.PublishMany(ctx, []webhook.Event{
		{ID: "new", Type: "post.created", TenantID: "acme"},
		{ID: "taken", Type: "post.created", TenantID: "globex"},
	})
	require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
	var ce *webhook.EventClashError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []string{"taken"}, ce.IDs)
	assert.Contains(t, err.Error(), `"taken"`)
	_, err = s.GetEvent(ctx, "new")
	require.ErrorIs(t, err, webhook.ErrNotFound, "nothing of the batch stored")
}

func TestPublishManyInTxNeedsTheStoreAbility(t *testing.T) {
	d, _ := newManyDispatcher(t, memstore.New())
	_, err := d.PublishManyInTx(context.Background(), nil, []webhook.Event{{Type: "post.created"}})
	require.ErrorIs(t, err, webhook.ErrNotSupported)
}
