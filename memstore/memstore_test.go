package memstore_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/storetest"
)

var _ webhook.Store = (*memstore.Store)(nil)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) webhook.Store { return memstore.New() })
}

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// setup returns a store with n endpoints and one event with a delivery to
// each, all due at t0.
func setup(t testing.TB, n int) (*memstore.Store, *webhook.StoredEvent) {
	t.Helper()
	ctx := context.Background()
	s := memstore.New()
	ev := &webhook.StoredEvent{ID: "ev", Type: "post.created", CreatedAt: t0, Body: []byte(`{"a":1}`)}
	var ds []*webhook.Delivery
	for i := 0; i < n; i++ {
		ep := &webhook.Endpoint{ID: "ep" + strconv.Itoa(i), URL: "https://example.com", CreatedAt: t0}
		require.NoError(t, s.CreateEndpoint(ctx, ep, webhook.Secret{Value: "s", CreatedAt: t0}, 0))
		ds = append(ds, &webhook.Delivery{ID: "d" + strconv.Itoa(i), EventID: ev.ID, EndpointID: ep.ID,
			State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0})
	}
	require.NoError(t, s.Enqueue(ctx, ev, ds))
	return s, ev
}

func TestClaimsShareOneBody(t *testing.T) {
	s, _ := setup(t, 3)
	cs, err := s.Claim(context.Background(), webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 10})
	require.NoError(t, err)
	require.Len(t, cs, 3)
	for _, c := range cs[1:] {
		assert.Same(t, &cs[0].Body[0], &c.Body[0], "one body per event")
		assert.Equal(t, len(c.Body), cap(c.Body), "an append must not write into the shared body")
	}
}

func TestTiesClaimInCreationOrder(t *testing.T) {
	s, _ := setup(t, 50)
	var got []string
	for {
		cs, err := s.Claim(context.Background(), webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 7})
		require.NoError(t, err)
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			got = append(got, c.Delivery.ID)
		}
	}
	require.Len(t, got, 50)
	for i, id := range got {
		assert.Equal(t, "d"+strconv.Itoa(i), id)
	}
}

func TestClaimRejectsNonPositiveLease(t *testing.T) {
	s, _ := setup(t, 1)
	_, err := s.Claim(context.Background(), webhook.ClaimParams{Now: t0, Limit: 1})
	require.ErrorIs(t, err, webhook.ErrInvalid)
}

func TestCompleteOfDeletedDeliveryIsAlsoNotFound(t *testing.T) {
	s, _ := setup(t, 1)
	ctx := context.Background()
	cs, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 1})
	require.NoError(t, err)
	require.NoError(t, s.DeleteEndpoint(ctx, "ep0"))
	_, _, err = s.Complete(ctx, webhook.Completion{DeliveryID: "d0", Token: cs[0].Token, Attempt: &webhook.Attempt{}, Outcome: webhook.OutcomeSuccess, Now: t0})
	require.ErrorIs(t, err, webhook.ErrLeaseLost)
	require.ErrorIs(t, err, webhook.ErrNotFound)
}

func TestCountReasonFormat(t *testing.T) {
	s, _ := setup(t, 1)
	ctx := context.Background()
	cs, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 1})
	require.NoError(t, err)
	ep, disabled, err := s.Complete(ctx, webhook.Completion{DeliveryID: "d0", Token: cs[0].Token,
		Attempt: &webhook.Attempt{Error: "HTTP 503"}, Outcome: webhook.OutcomeFail, Now: t0, DisableAfter: 1})
	require.NoError(t, err)
	require.True(t, disabled)
	assert.Equal(t, "1 consecutive failed deliveries; last: HTTP 503", ep.DisabledReason)
}

// BenchmarkClaimComplete measures one Claim of one delivery and its
// Complete (a retry, so the number waiting stays the same) with few and
// with many deliveries pending; the heap should keep the cost nearly flat.
// It logs the ratio of the two.
func BenchmarkClaimComplete(b *testing.B) {
	nsPerOp := map[int]float64{}
	sizes := []int{10, 100_000}
	for _, pending := range sizes {
		b.Run(fmt.Sprintf("pending=%d", pending), func(b *testing.B) {
			s, ev := setup(b, min(pending, 100))
			ctx := context.Background()
			// Top up to `pending` deliveries over the same endpoints.
			var ds []*webhook.Delivery
			for i := 100; i < pending; i++ {
				ds = append(ds, &webhook.Delivery{ID: "x" + strconv.Itoa(i), EventID: ev.ID, EndpointID: "ep" + strconv.Itoa(i%100),
					State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0})
			}
			if len(ds) > 0 {
				require.NoError(b, s.Enqueue(ctx, &webhook.StoredEvent{ID: "more", CreatedAt: t0}, ds))
			}
			attempt := &webhook.Attempt{Error: "HTTP 500"}
			b.ReportAllocs()
			runtime.GC() // collect earlier runs' stores outside the timing
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// Time moves on; the retried delivery goes to the back.
				now := t0.Add(time.Duration(i) * time.Microsecond)
				cs, err := s.Claim(ctx, webhook.ClaimParams{Now: now, Lease: time.Minute, Limit: 1, MaxPerEndpoint: 4})
				if err != nil || len(cs) != 1 {
					b.Fatalf("claim: %v, %d claims", err, len(cs))
				}
				_, _, err = s.Complete(ctx, webhook.Completion{DeliveryID: cs[0].Delivery.ID, Token: cs[0].Token,
					Attempt: attempt, Outcome: webhook.OutcomeRetry, Now: now, RetryAt: now})
				if err != nil {
					b.Fatal(err)
				}
			}
			nsPerOp[pending] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
	}
	if few, many := nsPerOp[sizes[0]], nsPerOp[sizes[1]]; few > 0 && many > 0 {
		b.Logf("ns/op with %d pending / with %d pending = %.2f", sizes[1], sizes[0], many/few)
	}
}

// TestClaimsOfAnEndpointShareItsCopy checks that the claims of one
// endpoint in one Claim call share one endpoint copy and secrets (the
// Claim contract allows it), and that another call makes new ones.
func TestClaimsOfAnEndpointShareItsCopy(t *testing.T) {
	ctx := context.Background()
	s, ev := setup(t, 2)
	require.NoError(t, s.Enqueue(ctx, &webhook.StoredEvent{ID: "ev2", CreatedAt: t0}, []*webhook.Delivery{
		{ID: "e0", EventID: "ev2", EndpointID: "ep0", State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0},
		{ID: "e1", EventID: "ev2", EndpointID: "ep0", State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0},
	}))
	_ = ev
	cs, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 3})
	require.NoError(t, err)
	require.Len(t, cs, 3)
	byEP := map[string][]*webhook.Claim{}
	for _, c := range cs {
		byEP[c.Endpoint.ID] = append(byEP[c.Endpoint.ID], c)
		assert.Equal(t, c.Delivery.EndpointID, c.Endpoint.ID)
		require.Len(t, c.Secrets, 1)
		assert.Equal(t, "s", c.Secrets[0].Value)
	}
	require.Len(t, byEP["ep0"], 2)
	a, b := byEP["ep0"][0], byEP["ep0"][1]
	assert.Same(t, a.Endpoint, b.Endpoint)
	assert.Same(t, &a.Secrets[0], &b.Secrets[0])
	assert.NotSame(t, a.Delivery, b.Delivery)
	assert.NotSame(t, a.Endpoint, byEP["ep1"][0].Endpoint)

	more, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Minute, Limit: 3})
	require.NoError(t, err)
	require.Len(t, more, 1)
	assert.NotSame(t, a.Endpoint, more[0].Endpoint, "a new copy per call")
	assert.Equal(t, "ep0", more[0].Endpoint.ID)
}
