package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// Rate-limited endpoints beside unlimited ones (memstore): what 50
// endpoints limited to 5 deliveries/s, each with a backlog, cost 10
// unlimited endpoints' burn-down. Their deliveries are older, so every
// Claim meets them first; the limit must keep them in the Store without
// taking workers or claim room from the unlimited endpoints.
const (
	rlUnlimited = 10
	rlLimited   = 50
	rlBacklog   = 200 // events per limited endpoint
)

func benchRateLimit(ctx context.Context, e *env) (figures, error) {
	return besideRun(ctx, e, webhook.EndpointParams{RateLimit: webhook.RateLimit{PerSecond: 5, Burst: 1}}, 0, 64)
}

// benchOrdered is benchRateLimit with 50 Ordered endpoints instead, whose
// receiver takes 200 ms to answer (so they too send about 5 a second
// each, one at a time) and the default 256 Workers (so the 50 attempts
// they hold leave the unordered endpoints their 160): what it measures is
// what ordering costs the others, not a share of the workers.
func benchOrdered(ctx context.Context, e *env) (figures, error) {
	return besideRun(ctx, e, webhook.EndpointParams{Ordered: true}, 200*time.Millisecond, webhook.WorkersDefault)
}

// besideRun measures the unlimited endpoints' burn-down alone and beside
// rlLimited endpoints made with other (URL, tenant and secret set here),
// whose receiver answers after delay, with workers Workers.
func besideRun(ctx context.Context, e *env, other webhook.EndpointParams, delay time.Duration, workers int) (figures, error) {
	alone, err := rateLimitRun(ctx, e, nil, 0, workers)
	if err != nil {
		return nil, err
	}
	beside, err := rateLimitRun(ctx, e, &other, delay, workers)
	if err != nil {
		return nil, err
	}
	return figures{"alone/s": alone, "beside/s": beside}, nil
}

// rateLimitRun loads p.pgN events for the unlimited endpoints (each event
// goes to all 10), and with limited the backlog of rlLimited endpoints made
// with those parameters before them, then starts the dispatcher and returns the unlimited deliveries
// per second of the burn-down.
func rateLimitRun(ctx context.Context, e *env, limited *webhook.EndpointParams, delay time.Duration, workers int) (float64, error) {
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
		AllowPrivateNetworks:   true,
		Workers:                workers,
		MaxInFlightPerEndpoint: 16,
	})
	if err != nil {
		return 0, err
	}
	defer shutdown(d)
	for i := 0; i < rlUnlimited; i++ {
		if err := createEndpoint(ctx, d, "rl-ok", e.rcv.url); err != nil {
			return 0, err
		}
	}
	if limited != nil {
		other, err := newReceiver() // the limited endpoints' deliveries are not counted
		if err != nil {
			return 0, err
		}
		defer other.close()
		other.delay = delay
		for i := 0; i < rlLimited; i++ {
			p := *limited
			p.TenantID, p.URL, p.Secret = "rl-limited", other.url, secret
			if _, _, err := d.CreateEndpoint(ctx, p); err != nil {
				return 0, err
			}
		}
		if err := loadTenant(ctx, d, "rl-limited", rlBacklog); err != nil {
			return 0, err
		}
	}
	n := e.p.pgN
	if err := loadTenant(ctx, d, "rl-ok", n); err != nil {
		return 0, err
	}
	rate, _, err := burnDown(ctx, e.rcv, func() error { return d.Start(ctx) }, n*rlUnlimited, e.p.timeout)
	return rate, err
}

// e0 numbers loads, so that event IDs differ between runs.
var e0 atomic.Int64

// loadTenant publishes n events to tenant, 1000 a call.
func loadTenant(ctx context.Context, d *webhook.Dispatcher, tenant string, n int) error {
	prefix := fmt.Sprintf("%s-%d", tenant, e0.Add(1))
	for i := 0; i < n; i += 1000 {
		batch := make([]webhook.Event, 0, 1000)
		for j := i; j < min(n, i+1000); j++ {
			batch = append(batch, webhook.Event{ID: fmt.Sprintf("%s-%d", prefix, j), Type: eventType, TenantID: tenant, Data: payloadData})
		}
		if _, err := d.PublishMany(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}
