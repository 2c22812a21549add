// Package memstore is an in-memory webhook.Store: for tests, demos and
// single-process applications that can afford to lose undelivered webhooks
// when the process exits.
//
// A Store is safe for concurrent use by many goroutines. Values it returns
// are copies, except Claim.Body and Claim.Metadata, which are the one
// stored body and metadata of the event, shared by every claim of that
// event: callers must not modify them.
//
// # Retention
//
// A Store prunes as sqlstore does, so a long-running process stays flat: it
// implements webhook.Maintainer, and Maintain, which the Dispatcher calls
// every Config.MaintenanceInterval, deletes the deliveries that ended
// (succeeded or failed) more than Options.Retention ago (30 days by
// default), counted from their last update, with their attempts; then the
// events created more than Retention ago that have no delivery left, with
// their bodies; then the secrets whose rotation grace period is over.
// Pending deliveries are never pruned, nor their events. A Store used
// without a Dispatcher prunes only when Maintain (or Prune) is called; with
// a negative Retention, Maintain does nothing and the Store keeps
// everything.
//
// An event keeps its ID until it is pruned: until then GetEvent finds it and
// Enqueue of the same ID is a duplicate, even when it has no deliveries
// left, whether because they were pruned or deleted with their endpoint
// (DeleteEndpoint leaves events to Maintain, as other endpoints may share
// them) or because no endpoint subscribed to it. Once pruned, its ID is new
// again.
package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	webhook "github.com/outhook/webhook"
)

// Defaults of Options, the same as sqlstore's.
const (
	// RetentionDefault is how long ended deliveries, their attempts and
	// their events are kept before Maintain deletes them (as
	// sqlstore.RetentionDefault).
	RetentionDefault = 30 * 24 * time.Hour
	// PruneBatchDefault is how many deliveries, or events, Prune deletes
	// under one hold of the Store's lock (as sqlstore.PruneBatchDefault).
	PruneBatchDefault = 500
)

// Options configure a Store. The zero value (or nil) is valid.
type Options struct {
	// Retention is how long ended (succeeded or failed) deliveries, their
	// attempts and their events are kept, counted from the delivery's last
	// update (for an event that has no delivery: from its CreatedAt).
	// Negative keeps everything. Defaults to RetentionDefault.
	Retention time.Duration
	// PruneBatch is how many deliveries, or events, Prune deletes under
	// one hold of the Store's lock; the lock is released between batches,
	// so workers and publishers go on meanwhile. Defaults to
	// PruneBatchDefault.
	PruneBatch int
}

// Store is an in-memory webhook.Store. Create one with New or
// NewWithOptions; the zero value is not usable.
type Store struct {
	mu   sync.Mutex
	opts Options

	seq        uint64 // creation sequence for endpoints, events and deliveries
	claimCalls uint64 // Claim calls so far, stamping endpointRec.claim
	endpoints  map[string]*endpointRec
	tenants    map[string]map[string]*endpointRec
	events     map[string]*eventRec
	deliveries map[string]*deliveryRec

	ready  endpointHeap // endpoints with unleased pending deliveries
	leased deliveryHeap // leased deliveries, by lease expiry
	ended  deliveryHeap // ended deliveries, by UpdatedAt
	empty  eventHeap    // events without deliveries, by CreatedAt

	// expiring holds the endpoints with a secret that has an ExpiresAt,
	// the only ones whose secrets Maintain has to look at.
	expiring map[*endpointRec]struct{}

	// tenantSecrets are the tenants' secrets (webhook.TenantSecretStore),
	// in the order they were added; tenantExpiring the tenants with one
	// that has an ExpiresAt.
	tenantSecrets  map[string][]webhook.Secret
	tenantExpiring map[string]struct{}
}

// endpointRec is an endpoint and everything that hangs off it.
type endpointRec struct {
	ep      webhook.Endpoint
	seq     uint64
	secrets []webhook.Secret // in the order they were added

	// deliveries is the newest of every delivery of the endpoint, which
	// are linked through deliveryRec.epPrev and epNext: the list is only
	// ever walked whole or unlinked from, which costs a publish two
	// pointers where a map by ID cost an insertion into a table as big as
	// the endpoint's history.
	deliveries *deliveryRec
	pending    deliveryHeap            // unleased pending deliveries, by due time
	leased     map[string]*deliveryRec // pending deliveries under a lease
	qindex     int                     // index in Store.ready, -1 when absent
	claim      claimState              // the latest Claim call's, see claimState
	rateTAT    time.Time               // the shared rate-limit bucket (webhook.TakeRateToken)
}

// eventRec is a stored event; ev.Body is owned by the Store and shared
// (read-only) by every Claim of the event.
type eventRec struct {
	ev         webhook.StoredEvent
	seq        uint64
	deliveries []*deliveryRec
}

// deliveryRec is a delivery with its lease and attempts.
type deliveryRec struct {
	d        webhook.Delivery
	seq      uint64
	ep       *endpointRec // nil if the endpoint did not exist at Enqueue
	ev       *eventRec
	attempts []*webhook.Attempt // private copies, oldest first

	token      string    // lease token; "" when not leased
	leaseUntil time.Time // when the lease expires

	heap  *deliveryHeap // the heap that holds it, if any
	index int           // its index in heap

	epPrev, epNext *deliveryRec // its neighbours in ep.deliveries
}

// link adds dr at the head of er's list of deliveries.
func (er *endpointRec) link(dr *deliveryRec) {
	dr.epPrev, dr.epNext = nil, er.deliveries
	if er.deliveries != nil {
		er.deliveries.epPrev = dr
	}
	er.deliveries = dr
}

// unlink removes dr from er's list of deliveries.
func (er *endpointRec) unlink(dr *deliveryRec) {
	if dr.epPrev != nil {
		dr.epPrev.epNext = dr.epNext
	} else {
		er.deliveries = dr.epNext
	}
	if dr.epNext != nil {
		dr.epNext.epPrev = dr.epPrev
	}
	dr.epPrev, dr.epNext = nil, nil
}

var (
	_ webhook.Store             = (*Store)(nil)
	_ webhook.Maintainer        = (*Store)(nil)
	_ webhook.StatsReader       = (*Store)(nil)
	_ webhook.TenantSecretStore = (*Store)(nil)
	_ webhook.RateLimitStore    = (*Store)(nil)
	_ webhook.OrderedStore      = (*Store)(nil)
)

// KeepsRateLimit implements webhook.RateLimitStore: Endpoint.RateLimit is
// configuration, kept like the other fields.
func (s *Store) KeepsRateLimit() {}

// SharesRateLimits implements webhook.SharedRateStore: Claim takes a
// token of the endpoint's rate-limit bucket, kept with the endpoint, for
// every delivery of a rate-limited endpoint it hands out, so Dispatchers
// sharing the Store share each endpoint's budget.
func (s *Store) SharesRateLimits() {}

// OrdersDeliveries implements webhook.OrderedStore: Claim honours
// Endpoint.Ordered.
func (s *Store) OrdersDeliveries() bool { return true }

// New returns an empty Store with the default Options.
func New() *Store {
	return NewWithOptions(nil)
}

// NewWithOptions returns an empty Store configured by opts; nil means the
// defaults, as New.
func NewWithOptions(opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Retention == 0 {
		o.Retention = RetentionDefault
	}
	if o.PruneBatch <= 0 {
		o.PruneBatch = PruneBatchDefault
	}
	return &Store{
		opts:       o,
		endpoints:  make(map[string]*endpointRec),
		tenants:    make(map[string]map[string]*endpointRec),
		events:     make(map[string]*eventRec),
		deliveries: make(map[string]*deliveryRec),
		leased:     deliveryHeap{order: byLease},
		ended:      deliveryHeap{order: byUpdated},
		expiring:   make(map[*endpointRec]struct{}),

		tenantSecrets:  make(map[string][]webhook.Secret),
		tenantExpiring: make(map[string]struct{}),
	}
}

func (s *Store) nextSeq() uint64 {
	s.seq++
	return s.seq
}

// lockEndpoint takes the mutex and returns the endpoint id. On error the
// mutex is not held.
func (s *Store) lockEndpoint(ctx context.Context, id string) (*endpointRec, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	er, ok := s.endpoints[id]
	if !ok {
		s.mu.Unlock()
		return nil, notFound("endpoint", id)
	}
	return er, nil
}

func notFound(kind, id string) error {
	return fmt.Errorf("memstore: %s %q: %w", kind, id, webhook.ErrNotFound)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("memstore: %s: %w", fmt.Sprintf(format, args...), webhook.ErrInvalid)
}

// lock takes the mutex unless ctx is already done.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	return nil
}
