package webhook

import (
	"context"
	"database/sql"
	"strconv"
	"time"
)

// Store is where the library keeps endpoints, events, deliveries and
// attempts. Implementations must be safe for concurrent use by many
// goroutines and, for shared databases, many processes. Every method that
// changes state does so atomically: it either happens wholly or not at all.
//
// The package storetest holds a conformance suite; every Store must pass
// storetest.Run. memstore and sqlstore are the implementations that ship.
//
// Times passed in (now) come from the dispatcher's clock; a Store never
// reads the wall clock itself, so tests can drive time.
type Store interface {
	// CreateEndpoint stores ep (its ID, timestamps and fields already set)
	// with its first signing secret. The zero Secret (empty Value) means
	// the endpoint has no secret of its own (Unsigned, TenantSecret): store
	// none. If maxPerTenant > 0 and the tenant
	// already has that many endpoints, it returns ErrTooManyEndpoints and
	// stores nothing; the count and the insert are one atomic step.
	CreateEndpoint(ctx context.Context, ep *Endpoint, secret Secret, maxPerTenant int) error
	// GetEndpoint returns a copy of the endpoint, or ErrNotFound.
	GetEndpoint(ctx context.Context, id string) (*Endpoint, error)
	// ListEndpoints returns the tenant's endpoints, oldest first.
	ListEndpoints(ctx context.Context, tenantID string) ([]*Endpoint, error)
	// UpdateEndpoint replaces the configuration fields of an existing
	// endpoint (Name, URL, Events, Method, ContentType, MaxAttempts,
	// Headers, Inactive, Ordered, UpdatedAt). TenantID, TenantSecret, Unsigned,
	// counters, state and secrets stay as they are. When it makes an
	// Inactive endpoint active, the endpoint's pending deliveries are
	// claimable again at their own due times. ErrNotFound if it does not
	// exist.
	UpdateEndpoint(ctx context.Context, ep *Endpoint) error
	// DeleteEndpoint removes the endpoint, its secrets, deliveries and
	// attempts. ErrNotFound if it does not exist.
	DeleteEndpoint(ctx context.Context, id string) error
	// DisableEndpoint marks the endpoint disabled with reason and time, and
	// ends its pending deliveries as failed with ReasonEndpointDisabled.
	// Disabling a disabled endpoint keeps its first reason and time.
	DisableEndpoint(ctx context.Context, id, reason string, now time.Time) error
	// EnableEndpoint clears the disabled state and reason and resets
	// ConsecutiveFailures to zero.
	EnableEndpoint(ctx context.Context, id string, now time.Time) error
	// RotateSecret adds next as the current secret; every other secret
	// gets ExpiresAt = min(its own, oldExpiresAt), and secrets already
	// expired at next.CreatedAt may be dropped.
	RotateSecret(ctx context.Context, id string, next Secret, oldExpiresAt time.Time) error
	// EndpointSecrets returns the endpoint's secrets active at now, newest
	// first (the same list Claim returns): its own, none for an endpoint
	// created without one (Unsigned), and its tenant's for a TenantSecret
	// endpoint when the Store is a TenantSecretStore. ErrNotFound if the
	// endpoint does not exist. SendTest uses it; nothing else outside the
	// Store sees a secret.
	EndpointSecrets(ctx context.Context, id string, now time.Time) ([]Secret, error)

	// Enqueue stores the event and its deliveries (zero or more) in one
	// atomic step. If an event with the same ID exists it writes nothing and
	// returns ErrDuplicateEvent, preferably as a *DuplicateEventError. Deliveries arrive pending, with their ID,
	// NextAttemptAt and timestamps set. A delivery whose endpoint was
	// disabled or deleted meanwhile may be stored already failed with
	// ReasonEndpointDisabled, or left for Claim to end. ev.Metadata is
	// kept with the event: GetEvent returns it, and Claim hands it out
	// with each of its deliveries (Claim.Metadata).
	Enqueue(ctx context.Context, ev *StoredEvent, deliveries []*Delivery) error
	// Claim leases up to p.Limit pending deliveries that are due at p.Now
	// and not leased (or whose lease expired), oldest due first, so that no
	// other Claim returns them until p.Now+p.Lease. See ClaimParams for the
	// per-endpoint cap. Deliveries of a disabled or deleted endpoint are
	// never returned: Claim ends them as failed with ReasonEndpointDisabled.
	// Deliveries of an Inactive endpoint are never returned either, but stay
	// pending, and must not hold back other endpoints' deliveries. A
	// Store that implements OrderedStore also honours Endpoint.Ordered
	// here (see OrderedStore).
	Claim(ctx context.Context, p ClaimParams) ([]*Claim, error)
	// Complete records the attempt of a claimed delivery and applies its
	// outcome, all in one atomic step with the endpoint's counters:
	//
	//   - Success: the delivery succeeds; the endpoint's
	//     ConsecutiveFailures resets to 0 and LastSuccessAt is set.
	//   - Retry: the delivery stays pending, due at c.RetryAt, unleased; the
	//     endpoint's LastFailureAt and LastFailureReason are set.
	//   - Fail: the delivery fails; the endpoint's ConsecutiveFailures grows
	//     by one and its last failure is set. If c.DisableReason is set, or
	//     the count reaches c.DisableAfter (> 0), the endpoint is disabled
	//     as by DisableEndpoint with that reason (or a reason naming the
	//     count) unless it is already disabled.
	//
	// It returns the endpoint as it is afterwards and whether this call
	// disabled it. If the delivery was claimed again under another token,
	// ended, or deleted since c.Token's claim, it records nothing and
	// returns ErrLeaseLost. A completion that arrives after its lease
	// expired but before anyone else claimed the delivery still counts.
	//
	// The endpoint may be disabled while the attempt is in flight. A
	// success is then still recorded (the receiver got the event): the
	// delivery succeeds, even if the disable already ended it with
	// ReasonEndpointDisabled, the counters reset and LastSuccessAt is set;
	// the endpoint stays disabled. A failed attempt in that case records
	// nothing and returns ErrLeaseLost: it does not count against an
	// endpoint that is already disabled.
	Complete(ctx context.Context, c Completion) (ep *Endpoint, disabled bool, err error)

	// GetEvent returns a stored event, or ErrNotFound.
	GetEvent(ctx context.Context, id string) (*StoredEvent, error)
	// GetDelivery returns a delivery, or ErrNotFound.
	GetDelivery(ctx context.Context, id string) (*Delivery, error)
	// ListDeliveries returns deliveries matching f, newest first, and a
	// cursor for the next page ("" when there is none).
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
	// ListAttempts returns the attempts of a delivery, oldest first.
	ListAttempts(ctx context.Context, deliveryID string) ([]*Attempt, error)
	// Requeue makes ended deliveries pending again, due at p.Now, with
	// Attempts reset to 0 and LastError cleared (their attempts stay in
	// the log), and any earlier lease void: one delivery (p.DeliveryID) or the failed
	// deliveries of p.EndpointID created at or after p.Since. It returns how
	// many it queued. Deliveries of a disabled endpoint are not queued.
	Requeue(ctx context.Context, p RequeueParams) (int, error)
}

// ClaimParams says what Claim may hand out.
type ClaimParams struct {
	Now   time.Time
	Lease time.Duration
	Limit int
	// MaxPerEndpoint, when > 0, caps how many deliveries of one endpoint
	// may be in flight: Claim returns no more than MaxPerEndpoint minus
	// InFlight[endpointID] for any endpoint. Deliveries skipped for the cap
	// stay pending and do not block other endpoints' deliveries.
	MaxPerEndpoint int
	// InFlight counts, per endpoint ID, the deliveries the caller has in
	// flight already. Claim must not modify it.
	InFlight map[string]int
	// RateLimit and RateAhead are for a SharedRateStore, which takes a
	// rate-limit token for each delivery of a rate-limited endpoint it
	// hands out (see TakeRateToken); other Stores ignore them. RateLimit
	// is the limit of endpoints without one of their own
	// (Config.RateLimit; zero: those are unlimited). RateAhead is how far
	// past Now a token may be due for Claim to hand its delivery out
	// already, with the token's time in Claim.NotBefore.
	RateLimit RateLimit
	RateAhead time.Duration
}

// Claim is a leased delivery and everything needed to send it.
type Claim struct {
	Delivery *Delivery // Attempts counts the attempts made before this one
	// Endpoint is the endpoint as it is at claim time. It may be shared
	// with the claims of the same endpoint returned by the same Claim call
	// and must not be modified.
	Endpoint *Endpoint
	// Secrets are the endpoint's active secrets at claim time, newest first
	// (see Store.EndpointSecrets): none for an Unsigned endpoint. They may
	// be shared like Endpoint and must not be modified.
	Secrets []Secret
	// Body is the stored envelope. It may be shared with other claims of
	// the same event and must not be modified.
	Body []byte
	// Token identifies this lease; Complete needs it.
	Token string
	// Metadata is the event's StoredEvent.Metadata, nil when it has none.
	// It may be shared with other claims and must not be modified.
	Metadata map[string]string
	// NotBefore, when set, is when the attempt may start: the time the
	// rate-limit token a SharedRateStore took for it is due, at most
	// ClaimParams.RateAhead after the claim. Zero: at once.
	NotBefore time.Time
}

// Outcome is what an attempt did to its delivery.
type Outcome int

// Outcomes of an attempt.
const (
	OutcomeSuccess Outcome = iota + 1 // the endpoint answered 2xx
	OutcomeRetry                      // failed; another attempt is due at RetryAt
	OutcomeFail                       // failed for good: attempts exhausted, or 410 Gone
)

// String returns "success", "retry" or "fail".
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeRetry:
		return "retry"
	case OutcomeFail:
		return "fail"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Completion is the result of one attempt, for Store.Complete.
type Completion struct {
	DeliveryID string    // the claimed delivery
	Token      string    // Claim.Token of the claim this attempt ran under
	Attempt    *Attempt  // the attempt to append to the log
	Outcome    Outcome   // what the attempt does to the delivery
	Now        time.Time // when the attempt ended
	// RetryAt is when the next attempt is due (OutcomeRetry).
	RetryAt time.Time
	// DisableAfter is the consecutive failed deliveries that disable the
	// endpoint (OutcomeFail); 0 never disables by count.
	DisableAfter int
	// DisableReason, when set with OutcomeFail, disables the endpoint at
	// once (410 Gone).
	DisableReason string
}

// DeliveryFilter selects deliveries for ListDeliveries. Zero fields match
// everything.
type DeliveryFilter struct {
	EndpointID string
	EventID    string
	// TenantID keeps only the tenant's deliveries: a customer-facing log
	// (the portal) always sets it.
	TenantID string
	// EventType keeps only deliveries of events of exactly that type.
	EventType string
	State     DeliveryState
	// Since and Until bound CreatedAt: Since <= CreatedAt < Until.
	Since time.Time
	Until time.Time
	// Limit is the page size; 0 means 50, and at most 1000 are returned.
	Limit int
	// Cursor is the value a previous call returned, to read the next page.
	Cursor string
}

// RequeueParams says which deliveries Requeue queues again.
type RequeueParams struct {
	// DeliveryID queues one ended delivery (succeeded or failed).
	DeliveryID string
	// EndpointID with Since queues the endpoint's failed deliveries created
	// at or after Since. Exactly one of DeliveryID and EndpointID is set.
	EndpointID string
	Since      time.Time
	Now        time.Time
}

// TxEnqueuer is an optional Store ability, found by type assertion: enqueue
// inside the application's own database transaction (the transactional
// outbox). Dispatcher.PublishTx uses it. What EnqueueTx writes is invisible
// until tx commits and gone if it rolls back.
type TxEnqueuer interface {
	// EnqueueTx is Enqueue inside tx.
	EnqueueTx(ctx context.Context, tx *sql.Tx, ev *StoredEvent, deliveries []*Delivery) error
}

// InTxEnqueuer is an optional Store ability, found by type assertion: the
// transactional outbox for a transaction of any driver, given as a Tx
// (WrapSQLTx for database/sql, pgxtx.Wrap for pgx). Dispatcher.PublishInTx
// uses it, and PublishTx when the Store lacks TxEnqueuer. What EnqueueInTx
// writes is invisible until the transaction commits and gone if it rolls
// back. A duplicate event ID must not spoil the transaction (PostgreSQL
// aborts a transaction at its first error: insert with ON CONFLICT DO
// NOTHING) and returns ErrDuplicateEvent, preferably as a
// *DuplicateEventError holding the event as the transaction sees it.
//
// It is a separate ability rather than a change to TxEnqueuer so that
// Stores written against TxEnqueuer keep compiling and working.
type InTxEnqueuer interface {
	// EnqueueInTx is Enqueue inside tx.
	EnqueueInTx(ctx context.Context, tx Tx, ev *StoredEvent, deliveries []*Delivery) error
}

// Notifier is an optional Store ability, found by type assertion: it tells
// the dispatcher about deliveries written where the dispatcher could not see
// them (a committed transaction, another process), so they go out without
// waiting for the next poll. Listen calls wake (which never blocks) for each
// such write until ctx is done, then returns; the dispatcher runs it in its
// own goroutine from Start to Shutdown and restarts it after an error.
type Notifier interface {
	// Listen calls wake for writes made elsewhere until ctx is done.
	Listen(ctx context.Context, wake func()) error
}

// Maintainer is an optional Store ability, found by type assertion: the
// dispatcher calls Maintain from its own goroutine every
// Config.MaintenanceInterval (pruning old deliveries, say). Errors are
// logged and the next call comes at the next interval.
type Maintainer interface {
	// Maintain does one round of housekeeping.
	Maintain(ctx context.Context, now time.Time) error
}

// SuccessGranularity is how stale a batched success may leave an
// endpoint's LastSuccessAt: a BatchCompleter need not write the endpoint
// row for a success when its ConsecutiveFailures is already 0 and its
// LastSuccessAt is at most this much older than the completion's Now. A
// success therefore always resets the failure count at once, and
// LastSuccessAt lags the latest success by less than SuccessGranularity.
// Store.Complete stays exact.
const SuccessGranularity = time.Second

// BatchCompleter is an optional Store ability, found by type assertion:
// record many finished attempts in one atomic step (one transaction), each
// endpoint's counters updated once per batch. The dispatcher's completer
// uses it when the Store has it and falls back to Complete per attempt
// otherwise.
//
// CompleteBatch applies cs in order with exactly the semantics of calling
// Complete once per element in that order, except that a success may leave
// LastSuccessAt up to SuccessGranularity stale (see there). Each
// completion applies or is ErrLeaseLost (in its CompletionResult)
// independently of the others: a stale token spoils only its own element.
// A returned error means the batch as a whole failed and none of it
// applied; the results are then nil. Otherwise the results match cs one
// for one.
//
// The dispatcher prefers CompleteBatch to Complete: a Store that wraps
// another by embedding it and overrides Complete (to instrument it, say)
// must override CompleteBatch too, or the embedded one is called instead.
type BatchCompleter interface {
	// CompleteBatch records cs in one atomic step.
	CompleteBatch(ctx context.Context, cs []Completion) ([]CompletionResult, error)
}

// CompletionResult is what one completion of a CompleteBatch did: what
// Complete would have returned for it.
type CompletionResult struct {
	// Endpoint is the endpoint as this completion left it (nil with Err).
	// The results of one CompleteBatch call may share one copy of an
	// endpoint, which must not be modified.
	Endpoint *Endpoint
	// Disabled is set when this completion disabled the endpoint.
	Disabled bool
	// Err is ErrLeaseLost (possibly wrapped) when the completion recorded
	// nothing, or a validation error for a malformed completion.
	Err error
}

// ManyEnqueuer is an optional Store ability, found by type assertion:
// Enqueue for a batch, in one atomic step (Dispatcher.PublishMany uses it,
// for imports and backfills). A Store without it is given the batch one
// Enqueue at a time.
type ManyEnqueuer interface {
	// EnqueueMany stores events[i] with deliveries[i] for every i, in one
	// atomic step (len(deliveries) == len(events)). An event whose ID is
	// already stored with the same TenantID and Type is a safe retry: it
	// and its deliveries are skipped, and existing[i] is the stored event
	// (ID, Type, TenantID and CreatedAt at least); existing[i] is nil for
	// an event written now. If a stored event has that ID with another
	// tenant or type, nothing of the batch is stored and the error is an
	// *EventClashError. The events' IDs are distinct (the dispatcher
	// checks), as are the deliveries' IDs.
	EnqueueMany(ctx context.Context, events []*StoredEvent, deliveries [][]*Delivery) (existing []*StoredEvent, err error)
}

// InTxManyEnqueuer is an optional Store ability, found by type assertion:
// EnqueueMany inside the application's transaction, given as a Tx (see
// InTxEnqueuer). Dispatcher.PublishManyInTx uses it. What it writes is
// invisible until the transaction commits and gone if it rolls back. An
// error other than an *EventClashError found before anything is written
// may leave part of the batch written in tx: the application must roll
// back on any error, as with every statement of its transaction.
type InTxManyEnqueuer interface {
	// EnqueueManyInTx is EnqueueMany inside tx.
	EnqueueManyInTx(ctx context.Context, tx Tx, events []*StoredEvent, deliveries [][]*Delivery) (existing []*StoredEvent, err error)
}

// MatchEnqueuer is an optional Store ability, found by type assertion:
// Publish in one step. Instead of reading the tenant's endpoints
// (ListEndpoints) and handing Enqueue one delivery per matching endpoint,
// the dispatcher calls EnqueueMatching, and the Store picks the endpoints
// itself while it writes: on a SQL database, one statement, so one round
// trip. Dispatcher.Publish uses it when the Store has it.
//
// EnqueueMatching stores ev and, in the same atomic step, one pending
// delivery for each endpoint of ev.TenantID that is neither Disabled nor
// Inactive and whose Events match ev.Type (MatchEvent), and returns how
// many deliveries it wrote.
// Each delivery has a new random ID (a UUID string), ev's ID, Type and
// TenantID, no attempts, NextAttemptAt set to ev.DueAt(now) (now, or
// ev.DeliverAt if later), and CreatedAt and UpdatedAt set to now: exactly
// what Publish would have passed to Enqueue. If an event with
// the same ID exists it writes nothing and returns ErrDuplicateEvent, as
// Enqueue does. If the Store cannot do it in its present configuration
// (an older database, another dialect) it returns an error matching
// ErrNotSupported and writes nothing; the dispatcher then takes the
// ListEndpoints and Enqueue path.
//
// The dispatcher prefers EnqueueMatching to Enqueue: a Store that wraps
// another by embedding it and overrides Enqueue or ListEndpoints must
// override EnqueueMatching too, or the embedded one is called instead.
type MatchEnqueuer interface {
	// EnqueueMatching stores ev with a delivery per matching endpoint.
	EnqueueMatching(ctx context.Context, ev *StoredEvent, now time.Time) (deliveries int, err error)
}

// InTxMatchEnqueuer is an optional Store ability, found by type assertion:
// EnqueueMatching inside the application's transaction, given as a Tx
// (see InTxEnqueuer). Dispatcher.PublishTx and PublishInTx use it when the
// Store has it; the endpoints are then read inside tx. What it writes is
// invisible until the transaction commits and gone if it rolls back. A
// duplicate event ID must not spoil the transaction and returns
// ErrDuplicateEvent, preferably as a *DuplicateEventError holding the
// event as the transaction sees it. An error matching ErrNotSupported
// means nothing was done in tx and the dispatcher falls back to
// ListEndpoints and EnqueueInTx (or EnqueueTx); after any other error the
// application must roll back, as after any failed statement of its
// transaction.
type InTxMatchEnqueuer interface {
	// EnqueueMatchingInTx is EnqueueMatching inside tx.
	EnqueueMatchingInTx(ctx context.Context, tx Tx, ev *StoredEvent, now time.Time) (deliveries int, err error)
}

// OrderedStore is an optional Store ability, found by type assertion:
// ordered delivery per endpoint (Endpoint.Ordered). Without it,
// CreateEndpoint and UpdateEndpoint refuse Ordered with ErrNotSupported.
//
// A Store that has it keeps Endpoint.Ordered as configuration
// (CreateEndpoint, UpdateEndpoint) and, for an Ordered endpoint, Claim
// returns a delivery only when it is the endpoint's earliest pending
// delivery in publish order and no other delivery of the endpoint is
// leased (a lease that has not expired), across every process that
// shares the Store. Publish order is the order in which the deliveries
// were stored (Enqueue): a sequence the Store assigns, not CreatedAt,
// which clocks may tie or skew. A requeued delivery (Requeue) keeps its
// place. So at most one delivery of an Ordered endpoint is in flight at a
// time, and a head that waits for its retry (or has failed and is due
// later) holds back the rest until it ends. Deliveries of endpoints that
// are not Ordered are claimed exactly as before, and an Ordered endpoint
// never holds back another endpoint's deliveries.
//
// GetDelivery and ListDeliveries set Delivery.BlockedBy on a pending
// delivery of an Ordered endpoint that waits for another (see there).
type OrderedStore interface {
	Store
	// OrdersDeliveries reports true: the Store honours Endpoint.Ordered.
	OrdersDeliveries() bool
}
