// Package webhook sends outbound webhooks from a Go application: it builds
// the envelope, signs the raw body, delivers it from in-process workers,
// retries with backoff, counts consecutive failures, disables endpoints
// that stay broken and keeps a delivery log.
//
// The application registers its customers' endpoints with
// Dispatcher.CreateEndpoint and calls Dispatcher.Publish from a request
// handler; Publish stores the event and one delivery per subscribed
// endpoint and returns without waiting for any HTTP request. The scheduler
// started by Dispatcher.Start claims due deliveries from the Store under a
// lease, in batches, and runs each attempt in a goroutine of its own, every
// endpoint within an allowance that shrinks when it hangs or asks to slow
// down; an attempt signs and sends, and its result is recorded.
//
// Data flows one way:
//
//	Publish → Store.Enqueue → worker: Store.Claim → sign, send → Store.Complete
//
// The Store interface plugs the library into the application's database:
// package memstore keeps everything in memory, package sqlstore in
// PostgreSQL or SQLite. Delivery is at least once; the event ID, sent as
// the webhook-id header, is the receiver's idempotency key.
//
// Receivers written in Go verify deliveries with package verify: one
// verifier per signing scheme (Standard Webhooks, plain hex HMAC, Stripe's
// timestamped form) and an http.Handler middleware.
package webhook
