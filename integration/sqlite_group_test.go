package integration

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestSQLiteGroupCommit: many concurrent write transactions on one SQLite
// Store, some failing (duplicate events, a cancelled context), share
// commits without one's failure touching another's writes.
func TestSQLiteGroupCommit(t *testing.T) {
	db, _ := openSQLite(t, "sqlite")
	s := newStore(t, db, sqlstore.SQLite, nil)
	ctx := context.Background()
	ep := &webhook.Endpoint{ID: "ep", TenantID: "t", URL: "https://example.com", Method: "POST",
		ContentType: webhook.ContentTypeJSON, CreatedAt: t0, UpdatedAt: t0}
	require.NoError(t, s.CreateEndpoint(ctx, ep, webhook.Secret{Value: "whsec_eA==", CreatedAt: t0}, 0))

	enqueue := func(ctx context.Context, id, delivery string) error {
		ev := &webhook.StoredEvent{ID: id, Type: "post.created", TenantID: "t", CreatedAt: t0, Body: benchBody}
		d := &webhook.Delivery{ID: delivery, EventID: id, EventType: ev.Type, TenantID: "t", EndpointID: ep.ID,
			State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0, UpdatedAt: t0}
		return s.Enqueue(ctx, ev, []*webhook.Delivery{d})
	}
	const n = 200
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3*n)
	for i := range n {
		wg.Add(3)
		go func() { defer wg.Done(); errs[3*i] = enqueue(ctx, fmt.Sprintf("e%d", i), fmt.Sprintf("d%d", i)) }()
		// The same event again: a duplicate, whose delivery must not stay.
		go func() { defer wg.Done(); errs[3*i+1] = enqueue(ctx, fmt.Sprintf("e%d", i), fmt.Sprintf("dup%d", i)) }()
		go func() {
			defer wg.Done()
			errs[3*i+2] = enqueue(cancelled, fmt.Sprintf("c%d", i), fmt.Sprintf("c%d", i))
		}()
	}
	wg.Wait()
	for i := range n {
		a, b := errs[3*i], errs[3*i+1]
		require.True(t, (a == nil) != (b == nil), "one of the two enqueues of e%d wins: %v, %v", i, a, b)
		for _, err := range []error{a, b} {
			if err != nil {
				require.ErrorIs(t, err, webhook.ErrDuplicateEvent)
			}
		}
		require.ErrorIs(t, errs[3*i+2], context.Canceled)
	}
	var deliveries, events int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM outhook_deliveries`).Scan(&deliveries))
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM outhook_events`).Scan(&events))
	require.Equal(t, n, deliveries, "one delivery per event: the duplicates' were rolled back alone")
	require.Equal(t, n, events)

	// Claims and batch completions at once: every delivery ends delivered once.
	var mu sync.Mutex
	done := 0
	var cwg sync.WaitGroup
	for range 4 {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for {
				cs, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: 3600e9, Limit: 16})
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				comps := make([]webhook.Completion, len(cs))
				for i, c := range cs {
					comps[i] = webhook.Completion{DeliveryID: c.Delivery.ID, Token: c.Token, Outcome: webhook.OutcomeSuccess, Now: t0,
						Attempt: &webhook.Attempt{StartedAt: t0, StatusCode: 200, Success: true}}
				}
				res, err := s.CompleteBatch(ctx, comps)
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range res {
					if r.Err != nil && !errors.Is(r.Err, webhook.ErrLeaseLost) {
						t.Error(r.Err)
					}
				}
				mu.Lock()
				done += len(cs)
				mu.Unlock()
			}
		}()
	}
	cwg.Wait()
	require.Equal(t, n, done)
	var succeeded, attempts int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM outhook_deliveries WHERE state = 'succeeded'`).Scan(&succeeded))
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM outhook_attempts`).Scan(&attempts))
	require.Equal(t, n, succeeded)
	require.Equal(t, n, attempts)
}
