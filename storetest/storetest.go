// Package storetest is the conformance suite of webhook.Store, and the
// contract to read when you write a Store of your own. Every Store runs it
// from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) webhook.Store { return mystore.New(t) })
//	}
//
// Run finds the optional abilities (webhook.TxEnqueuer,
// webhook.InTxEnqueuer, webhook.Notifier, webhook.Maintainer,
// webhook.StatsReader, webhook.TenantSecretStore, webhook.BatchCompleter,
// webhook.ManyEnqueuer, webhook.MatchEnqueuer and their InTx forms,
// webhook.Releaser and the others its Features list)
// by type assertion and
// tests those too; a Suite says
// exactly which to test, runs the subtests in parallel, and runs one area
// at a time.
//
// # Writing a Store for your ORM
//
// The Store interface is large but regular. Implement it in this order and
// run each area as soon as its methods exist, with the Suite method of the
// same name (go test -run picks areas too: -run 'Conformance/Endpoints'):
//
//  1. Endpoints: CreateEndpoint (count and insert in one transaction, for
//     the tenant limit), GetEndpoint, ListEndpoints, UpdateEndpoint,
//     DeleteEndpoint, RotateSecret and EndpointSecrets. Store Events and
//     Headers as JSON or child rows; return copies.
//  2. Queue: Enqueue (event and deliveries in one transaction; a duplicate
//     event ID writes nothing), GetEvent, GetDelivery, then Claim (due,
//     unleased or lease-expired rows, oldest due first, a fresh token per
//     lease; SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL), then Complete
//     (match the lease token; the attempt, the delivery and the endpoint's
//     counters in one transaction, the endpoint row locked so concurrent
//     failures count exactly), then DisableEndpoint and EnableEndpoint.
//  3. Log: ListDeliveries (keyset pagination, newest first), ListAttempts
//     (oldest first) and Requeue.
//  4. Concurrency: 16 goroutines claim and complete on one store; run it
//     against the real database, not a test double.
//  5. The optional abilities your Store offers: TxEnqueuer (Enqueue inside
//     the application's *sql.Tx), InTxEnqueuer (the same inside any
//     driver's transaction, a webhook.Tx), Notifier (wake the dispatcher
//     when other processes write), Maintainer (retention pruning),
//     StatsReader (backlog and recent outcomes for dashboards and
//     metrics), TenantSecretStore (one secret per tenant for its
//     TenantSecret endpoints), BatchCompleter (many completions in one
//     transaction, each endpoint row locked and written once),
//     MatchEnqueuer (Publish in one step: the Store picks the matching
//     endpoints as it writes).
//
// The suite tests the contract documented on webhook.Store, never an
// implementation's internals. It never reads the wall clock: every time it
// passes is derived from a fixed base time, at whole milliseconds or
// coarser, so stores that keep microseconds (PostgreSQL) pass too. Every ID
// it makes is a UUID string. Its concurrency tests run 16 goroutines on one
// store.
//
// Where the contract is silent, the suite takes these readings:
//
//   - A method given the ID of an endpoint or delivery that does not exist
//     returns ErrNotFound: also ListAttempts, EndpointSecrets, Enable-,
//     DisableEndpoint, RotateSecret and both forms of Requeue. A delivery
//     that exists but has no attempts yet lists none, without error.
//   - Complete loses its lease (ErrLeaseLost) only when the delivery was
//     claimed again, ended or deleted since: a worker slower than its
//     lease still records its attempt if nobody else took the delivery.
//     Completing a delivery deleted with its endpoint is ErrLeaseLost.
//   - A success is never erased by a racing disable: when the endpoint was
//     disabled while an attempt was in flight (the disable ended the
//     delivery with ReasonEndpointDisabled, or a Claim racing the disable
//     handed it out), Complete with OutcomeSuccess and the lease's token
//     still records the attempt, marks the delivery succeeded, resets the
//     endpoint's ConsecutiveFailures and sets LastSuccessAt; the endpoint
//     stays disabled. A failed attempt in that situation records nothing
//     and is ErrLeaseLost: it must not count toward a disabled endpoint.
//   - A delivery enqueued for an endpoint that is already disabled is
//     never claimed and is failed with ReasonEndpointDisabled by the time
//     Claim has run (it may be stored failed right away).
//   - ListDeliveries returns no cursor when the page holds the last
//     matching delivery, and rejects a cursor it did not issue with
//     ErrInvalid. Deliveries with equal CreatedAt may come in any order,
//     but pagination must still visit each exactly once.
//   - ListAttempts is oldest first by StartedAt across Requeue, which
//     restarts Number at 1.
//   - Requeue with both or neither of DeliveryID and EndpointID is
//     ErrInvalid; Requeue of a pending delivery queues nothing (0, nil).
//     A requeued delivery starts afresh: Attempts 0 and LastError empty
//     (its attempts, with their errors, stay in the log). A success clears
//     LastError too.
//   - Complete sets the endpoint's LastSuccessAt, LastFailureAt and
//     DisabledAt to c.Now, its LastFailureReason and the delivery's
//     LastError to c.Attempt.Error; a reason for disabling by count names
//     the count and the last error.
//   - Times are stored exactly (to the microsecond) within years 1678 to
//     2261; a store that cannot hold a time beyond that saturates it at the
//     end of its range, never wraps it around.
//   - UpdateEndpoint keeps TenantID and CreatedAt as stored.
//   - A disabled endpoint counts toward the per-tenant limit.
//   - CompleteBatch (webhook.BatchCompleter) gives each completion what
//     Complete would have in the same order, except that a success may
//     leave LastSuccessAt stale by less than webhook.SuccessGranularity
//     (never earlier than it was); a success always resets
//     ConsecutiveFailures. Complete itself stays exact.
package storetest

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
)

// Run runs the whole conformance suite against stores made by newStore,
// serially, with the optional abilities found by type assertion on the
// first store it makes. Each subtest calls newStore once and expects an
// empty store of its own (a fresh database or schema for SQL stores);
// newStore should register any cleanup with t.Cleanup. Use a Suite to run
// in parallel, pick the optional abilities, or run one area.
func Run(t *testing.T, newStore func(t *testing.T) webhook.Store) {
	Suite{NewStore: newStore, Features: Detect}.Run(t)
}

// Features says which optional abilities of a Store the suite tests.
type Features uint

// The optional abilities.
const (
	// TxEnqueuer: EnqueueTx inside the application's transaction. The
	// Suite needs BeginTx.
	TxEnqueuer Features = 1 << iota
	// Notifier: Listen calls wake after deliveries are written and
	// returns when its context ends.
	Notifier
	// Maintainer: Maintain prunes ended deliveries older than the Suite's
	// Retention, with their attempts and events, and nothing else.
	Maintainer
	// Stats: webhook.StatsReader counts pending deliveries, the oldest of
	// them, attempts and failed deliveries in a window, and disabled
	// endpoints, overall and per endpoint.
	Stats
	// TenantSecrets: webhook.TenantSecretStore keeps secrets per tenant,
	// and Claim and EndpointSecrets return them for TenantSecret
	// endpoints.
	TenantSecrets
	// InTxEnqueuer: EnqueueInTx inside the application's transaction,
	// given as a webhook.Tx. The Suite needs BeginAppTx or BeginTx.
	InTxEnqueuer
	// BatchCompleter: webhook.BatchCompleter records many completions in
	// one atomic step, each as Complete would.
	BatchCompleter
	// ManyEnqueuer: EnqueueMany stores a batch atomically, skips events
	// stored already and fails a batch with a clashing ID.
	ManyEnqueuer
	// InTxManyEnqueuer: EnqueueManyInTx in the application's transaction.
	// The Suite needs BeginAppTx or BeginTx.
	InTxManyEnqueuer
	// MatchEnqueuer: EnqueueMatching writes the event with a delivery for
	// exactly the endpoints Publish would pick.
	MatchEnqueuer
	// InTxMatchEnqueuer: EnqueueMatchingInTx in the application's
	// transaction. The Suite needs BeginAppTx or BeginTx.
	InTxMatchEnqueuer
	// RateLimits: webhook.RateLimitStore keeps Endpoint.RateLimit as
	// configuration.
	RateLimits
	// Ordered: webhook.OrderedStore claims an Ordered endpoint's
	// deliveries one at a time in publish order and sets
	// Delivery.BlockedBy.
	Ordered
	// SharedRates: webhook.SharedRateStore takes a token of the
	// endpoint's rate-limit bucket, kept in the Store, for each delivery
	// of a rate-limited endpoint Claim hands out.
	SharedRates
	// Releaser: webhook.Releaser gives the leases of claims never
	// attempted back, so their deliveries are claimable again at once.
	Releaser

	// Detect tests every ability the first store made implements.
	Detect Features = 1 << 31
)

// RetentionDefault is the Retention a Suite assumes when it has none:
// sqlstore's and memstore's default, 30 days.
const RetentionDefault = 30 * 24 * time.Hour

// Suite is a configured conformance run. NewStore is required; the zero
// value of every other field means no optional ability, serial subtests
// and RetentionDefault.
type Suite struct {
	// NewStore returns an empty store of its own for one subtest and
	// registers its cleanup with t.Cleanup. With Parallel it is called from
	// many goroutines at once.
	NewStore func(t *testing.T) webhook.Store
	// Features lists the optional abilities to test; Detect finds them by
	// type assertion. Testing an ability the Store lacks fails the run.
	Features Features
	// Parallel runs the subtests of each area in parallel (t.Parallel), as
	// many as go test's -parallel allows: for Stores that give each
	// subtest its own database or schema.
	Parallel bool
	// BeginTx begins a transaction on the database of s, for the
	// TxEnqueuer tests: for sqlstore, s.(*sqlstore.Store).DB().BeginTx.
	BeginTx func(ctx context.Context, s webhook.Store) (*sql.Tx, error)
	// BeginAppTx begins a transaction on the database of s, for the
	// InTxEnqueuer tests, when it is not a *sql.Tx (a pgx.Tx through
	// pgxtx.Wrap, say). Defaults to BeginTx wrapped with webhook.WrapSQLTx.
	BeginAppTx func(ctx context.Context, s webhook.Store) (AppTx, error)
	// Retention is the store's retention for the Maintainer tests.
	// Defaults to RetentionDefault.
	Retention time.Duration
}

// Run runs every area of the suite, and the optional abilities in
// s.Features.
func (s Suite) Run(t *testing.T) {
	t.Run("Endpoints", s.Endpoints)
	t.Run("Queue", s.Queue)
	t.Run("Log", s.Log)
	t.Run("Concurrency", s.Concurrency)
	features := s.features(t)
	for _, ab := range s.abilities() {
		if features&ab.flag != 0 {
			t.Run(ab.name, ab.run)
		}
	}
}

// Endpoints tests CreateEndpoint, GetEndpoint, ListEndpoints,
// UpdateEndpoint, DeleteEndpoint, the tenant limit, RotateSecret and
// EndpointSecrets, that returned values are copies, and the fields
// Unsigned, TenantSecret and Inactive with an endpoint created without a
// secret.
func (s Suite) Endpoints(t *testing.T) {
	n := s.newStore()
	t.Run("Endpoints", func(t *testing.T) { testEndpoints(t, n) })
	t.Run("TenantLimit", func(t *testing.T) { testTenantLimit(t, n) })
	t.Run("Secrets", func(t *testing.T) { testSecrets(t, n) })
	t.Run("Copies", func(t *testing.T) { testCopies(t, n) })
	t.Run("Model", func(t *testing.T) { testModel(t, n) })
}

// Queue tests Enqueue, Claim, leases, Complete, DisableEndpoint and
// EnableEndpoint, and that an Inactive endpoint's deliveries wait.
func (s Suite) Queue(t *testing.T) {
	n := s.newStore()
	t.Run("Enqueue", func(t *testing.T) { testEnqueue(t, n) })
	t.Run("Claim", func(t *testing.T) { testClaim(t, n) })
	t.Run("Lease", func(t *testing.T) { testLease(t, n) })
	t.Run("Complete", func(t *testing.T) { testComplete(t, n) })
	t.Run("Disable", func(t *testing.T) { testDisable(t, n) })
	t.Run("DisableRace", func(t *testing.T) { testDisableRace(t, n) })
	t.Run("TimeRange", func(t *testing.T) { testRegressTimeRange(t, n) })
	t.Run("Inactive", func(t *testing.T) { testInactive(t, n) })
}

// Log tests ListDeliveries, ListAttempts and Requeue.
func (s Suite) Log(t *testing.T) {
	n := s.newStore()
	t.Run("ListDeliveries", func(t *testing.T) { testListDeliveries(t, n) })
	t.Run("ListAttempts", func(t *testing.T) { testListAttempts(t, n) })
	t.Run("Requeue", func(t *testing.T) { testRequeue(t, n) })
	t.Run("AttemptsOrder", func(t *testing.T) { testRegressAttemptsOrder(t, n) })
}

// Concurrency runs 16 goroutines claiming and completing on one store.
func (s Suite) Concurrency(t *testing.T) {
	testConcurrency(t, s.newStore())
}

// newStore returns s.NewStore, made to call t.Parallel first when
// s.Parallel is set.
func (s Suite) newStore() newStoreFunc {
	if s.NewStore == nil {
		panic("storetest: Suite.NewStore is nil")
	}
	if !s.Parallel {
		return s.NewStore
	}
	var once sync.Map // *testing.T → struct{}: t.Parallel may be called once
	return func(t *testing.T) webhook.Store {
		if _, done := once.LoadOrStore(t, struct{}{}); !done {
			t.Parallel()
		}
		return s.NewStore(t)
	}
}

// features resolves Detect with a store made for t.
func (s Suite) features(t *testing.T) Features {
	f := s.Features
	if f&Detect == 0 {
		return f
	}
	f &^= Detect
	st := s.NewStore(t)
	for _, ab := range s.abilities() {
		if ab.has(st) {
			f |= ab.flag
		}
	}
	return f
}

// ability is one optional ability of a Store: its flag, the area that
// tests it, and how Detect finds it (with what the Suite needs to test it).
type ability struct {
	flag Features
	name string
	run  func(t *testing.T)
	has  func(st webhook.Store) bool
}

// abilities lists the optional abilities in the order Run tests them.
func (s Suite) abilities() []ability {
	canTx := s.BeginTx != nil
	canAppTx := s.BeginAppTx != nil || s.BeginTx != nil
	return []ability{
		{TxEnqueuer, "TxEnqueuer", s.TxEnqueuer, func(st webhook.Store) bool { _, ok := st.(webhook.TxEnqueuer); return ok && canTx }},
		{InTxEnqueuer, "InTxEnqueuer", s.InTxEnqueuer, func(st webhook.Store) bool { _, ok := st.(webhook.InTxEnqueuer); return ok && canAppTx }},
		{Notifier, "Notifier", s.Notifier, func(st webhook.Store) bool { _, ok := st.(webhook.Notifier); return ok }},
		{Maintainer, "Maintainer", s.Maintainer, func(st webhook.Store) bool { _, ok := st.(webhook.Maintainer); return ok }},
		{Stats, "Stats", s.Stats, func(st webhook.Store) bool { _, ok := st.(webhook.StatsReader); return ok }},
		{TenantSecrets, "TenantSecrets", s.TenantSecrets, func(st webhook.Store) bool { _, ok := st.(webhook.TenantSecretStore); return ok }},
		{BatchCompleter, "BatchCompleter", s.BatchCompleter, func(st webhook.Store) bool { _, ok := st.(webhook.BatchCompleter); return ok }},
		{ManyEnqueuer, "ManyEnqueuer", s.ManyEnqueuer, func(st webhook.Store) bool { _, ok := st.(webhook.ManyEnqueuer); return ok }},
		{InTxManyEnqueuer, "InTxManyEnqueuer", s.InTxManyEnqueuer, func(st webhook.Store) bool { _, ok := st.(webhook.InTxManyEnqueuer); return ok && canAppTx }},
		{MatchEnqueuer, "MatchEnqueuer", s.MatchEnqueuer, func(st webhook.Store) bool { _, ok := st.(webhook.MatchEnqueuer); return ok }},
		{InTxMatchEnqueuer, "InTxMatchEnqueuer", s.InTxMatchEnqueuer, func(st webhook.Store) bool { _, ok := st.(webhook.InTxMatchEnqueuer); return ok && canAppTx }},
		{RateLimits, "RateLimits", s.RateLimits, func(st webhook.Store) bool { _, ok := st.(webhook.RateLimitStore); return ok }},
		{Ordered, "Ordered", s.Ordered, func(st webhook.Store) bool { o, ok := st.(webhook.OrderedStore); return ok && o.OrdersDeliveries() }},
		{SharedRates, "SharedRates", s.SharedRates, func(st webhook.Store) bool { _, ok := st.(webhook.SharedRateStore); return ok }},
		{Releaser, "Releaser", s.Releaser, func(st webhook.Store) bool { _, ok := st.(webhook.Releaser); return ok }},
	}
}

type newStoreFunc = func(t *testing.T) webhook.Store
