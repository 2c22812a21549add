package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// A Store used directly, as the dispatcher uses it: store an endpoint,
// enqueue an event for it, claim the delivery under a lease and record the
// attempt.
func ExampleNew() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := memstore.New()

	ep := &webhook.Endpoint{ID: "ep_1", TenantID: "acme", URL: "https://example.com/hook", CreatedAt: now}
	_ = s.CreateEndpoint(ctx, ep, webhook.Secret{Value: "whsec_c2VjcmV0", CreatedAt: now}, 10)

	ev := &webhook.StoredEvent{ID: "evt_1", Type: "post.created", TenantID: "acme", CreatedAt: now, Body: []byte(`{"id":"evt_1"}`)}
	_ = s.Enqueue(ctx, ev, []*webhook.Delivery{{
		ID: "dlv_1", EventID: ev.ID, EndpointID: ep.ID, State: webhook.StatePending, NextAttemptAt: now, CreatedAt: now,
	}})

	claims, _ := s.Claim(ctx, webhook.ClaimParams{Now: now, Lease: time.Minute, Limit: 10})
	c := claims[0]
	fmt.Println(c.Delivery.ID, string(c.Body), len(c.Secrets))

	after, _, _ := s.Complete(ctx, webhook.Completion{
		DeliveryID: c.Delivery.ID, Token: c.Token, Outcome: webhook.OutcomeSuccess, Now: now.Add(time.Second),
		Attempt: &webhook.Attempt{ID: "att_1", DeliveryID: c.Delivery.ID, Number: 1, StatusCode: 200, Success: true},
	})
	d, _ := s.GetDelivery(ctx, "dlv_1")
	fmt.Println(d.State, d.Attempts, after.LastSuccessAt.Format(time.TimeOnly))
	// Output:
	// dlv_1 {"id":"evt_1"} 1
	// succeeded 1 12:00:01
}

// A Store keeps ended deliveries, their attempts and their events for
// Options.Retention; Maintain, which the Dispatcher calls every
// Config.MaintenanceInterval, prunes what is older.
func ExampleNewWithOptions() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := memstore.NewWithOptions(&memstore.Options{Retention: 7 * 24 * time.Hour})

	// An event no endpoint subscribed to: no deliveries, but its ID is taken.
	ev := &webhook.StoredEvent{ID: "evt_1", Type: "post.created", TenantID: "acme", CreatedAt: now}
	_ = s.Enqueue(ctx, ev, nil)

	_ = s.Maintain(ctx, now.Add(24*time.Hour))
	_, err := s.GetEvent(ctx, "evt_1")
	fmt.Println("after a day:", err)

	_ = s.Maintain(ctx, now.Add(8*24*time.Hour))
	_, err = s.GetEvent(ctx, "evt_1")
	fmt.Println("after 8 days:", errors.Is(err, webhook.ErrNotFound))
	// Output:
	// after a day: <nil>
	// after 8 days: true
}
