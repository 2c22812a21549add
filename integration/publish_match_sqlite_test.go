package integration

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestPublishMatchSQLite: EnqueueMatching on SQLite (one transaction of
// the writer, the endpoints read inside it) writes what the Go path
// writes, for Publish, PublishTx and PublishInTx, with IDs shaped as
// internal/uid makes them.
func TestPublishMatchSQLite(t *testing.T) {
	db, _ := openSQLite(t, "sqlite")
	st := newStore(t, db, sqlstore.SQLite, nil)
	publishMatchAllWays(t, db, st)
	t.Run("IDs", func(t *testing.T) {
		ctx := context.Background()
		d, err := webhook.NewDispatcher(st, nil)
		require.NoError(t, err)
		for i := 0; i < 3; i++ {
			_, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "ids", URL: "https://example.com/hook"})
			require.NoError(t, err)
		}
		ev, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "ids"})
		require.NoError(t, err)
		ds, _, err := st.ListDeliveries(ctx, webhook.DeliveryFilter{EventID: ev.ID, Limit: 10})
		require.NoError(t, err)
		require.Len(t, ds, 3)
		v7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
		seen := map[string]bool{}
		for _, dl := range ds {
			assert.Regexp(t, v7, dl.ID)
			assert.InDelta(t, uidMillis(t, ev.ID), uidMillis(t, dl.ID), 5000, "the time in the ID")
			seen[dl.ID] = true
		}
		assert.Len(t, seen, 3)
	})
}

// TestPublishMatchCorruptEventsSQLite is TestPublishMatchCorruptEventsPostgres
// on SQLite, for text that is not JSON and for JSON that is not an array.
func TestPublishMatchCorruptEventsSQLite(t *testing.T) {
	for _, events := range []string{`{"oops`, `{"a": "post.created"}`, `"post.created"`} {
		t.Run(events, func(t *testing.T) {
			db, _ := openSQLite(t, "sqlite")
			publishCorruptEvents(t, db, newStore(t, db, sqlstore.SQLite, nil), events, `UPDATE outhook_endpoints SET events = ? WHERE id = ?`)
		})
	}
}

// uidMillis is the Unix time in milliseconds a version 7 UUID starts with.
func uidMillis(t *testing.T, id string) float64 {
	ms, err := strconv.ParseUint(strings.ReplaceAll(id[:13], "-", ""), 16, 64)
	require.NoError(t, err)
	return float64(ms)
}
