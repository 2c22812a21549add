package webhook

import (
	"net/http"
	"net/url"
	"time"
)

// Version is the library version, sent in the User-Agent header as
// "outhook/<Version>".
const Version = "0.1.0"

// Event is something that happened in the application, published to the
// endpoints of one tenant that subscribe to its type.
type Event struct {
	// ID is the idempotency key: the same for every attempt and every
	// endpoint, sent as the webhook-id header. Assigned (a UUID) when empty.
	// Publishing an event whose ID already exists creates no new deliveries.
	ID string
	// Type names what happened, "category.action" style: "post.created",
	// "item.create", "vote.deleted".
	Type string
	// TenantID is the customer account that owns the endpoints (a portal,
	// an organization, a workspace). Empty is a tenant of its own. The
	// rules of EndpointParams.TenantID apply.
	TenantID string
	// CreatedAt is assigned from Config.Clock when zero. Otherwise it must
	// lie from 1970-01-01 (the Unix epoch) to before 2262-01-01 UTC, the
	// times every Store can hold; it is kept to the microsecond.
	CreatedAt time.Time
	// DeliverAt, when set, publishes now and delivers later: the event's
	// deliveries are first due at DeliverAt (Delivery.NextAttemptAt), and
	// nothing is sent before it. A time not after the publish time means at
	// once, like zero. Like CreatedAt it must lie from 1970-01-01 to before
	// 2262-01-01 UTC. The endpoints are picked at publish time, as always:
	// an endpoint created before DeliverAt gets nothing of it, and one
	// disabled meanwhile gets nothing either.
	DeliverAt time.Time
	// Data is marshalled to JSON inside the envelope.
	Data any
}

// EndpointParams is what the application supplies to create or update an
// endpoint. Zero values mean the documented default.
type EndpointParams struct {
	// TenantID is the owner of the endpoint. It cannot change on update.
	// At most MaxTenantIDLen bytes of UTF-8 without control characters.
	TenantID string
	// Name is a free label, e.g. "production-server". At most MaxNameLen
	// bytes of UTF-8 without control characters.
	Name string
	// URL is where deliveries go: http or https (https only with
	// Config.HTTPSOnly), at most 2048 bytes of UTF-8. It may carry a secret in its query (Sleekplan's ?key=); query
	// values are never logged. Hosts named localhost or *.localhost (with
	// or without a trailing dot) are refused unless
	// Config.AllowPrivateNetworks is set, as are non-public IP addresses.
	URL string
	// Events filters what the endpoint receives: exact type names or
	// prefixes such as "post.*". Empty means every event.
	Events []string
	// Secret is the signing secret: 16 to 256 bytes of UTF-8 without NUL
	// or surrounding spaces. Empty: one is generated ("whsec_" and
	// base64 of 32 random bytes). Ignored by UpdateEndpoint, which rejects a
	// non-empty value: use RotateSecret. It must be empty when Unsigned or
	// TenantSecret is set.
	Secret string
	// TenantSecret signs the endpoint's deliveries with its tenant's
	// secrets (Dispatcher.RotateTenantSecret, SetTenantSecret) instead of
	// a secret of its own: one secret per account or portal, rotated once
	// for all of the tenant's endpoints. The tenant must have a secret
	// when the endpoint is created, and the Store must implement
	// TenantSecretStore (else ErrNotSupported). Chosen at creation, like
	// TenantID: UpdateEndpoint keeps it.
	TenantSecret bool
	// Unsigned sends the endpoint's deliveries without a signature header
	// (a workspace product whose secret is optional): the endpoint has no
	// secret, and the receiver can rely only on a secret URL (a token in
	// its path or query) or on nothing. webhook-id and webhook-timestamp
	// are still sent. Conflicts with Secret and TenantSecret. Chosen at
	// creation, like TenantID: UpdateEndpoint keeps it.
	Unsigned bool
	// Inactive switches the endpoint off: the customer's own switch,
	// distinct from Disabled (the library's auto-disable, which keeps a
	// reason). While inactive the endpoint gets no deliveries of events
	// published meanwhile, and its pending deliveries wait (they neither
	// fail nor count as failures) until it is active again. Zero: active.
	// UpdateEndpoint sets it like every other field; see also
	// Dispatcher.SetEndpointActive.
	Inactive bool

	// Ordered (issue 11, ordered delivery) sends the endpoint's deliveries
	// one at a time in publish order: a delivery goes only when every
	// delivery published to the endpoint before it has ended (succeeded,
	// or failed for good: retries exhausted, 410 Gone, or ended by a
	// disable). A failing head therefore holds back the deliveries behind
	// it until it ends. Settable at creation and by UpdateEndpoint;
	// switching it on with deliveries pending orders them from then on in
	// publish order (deliveries already in flight finish as they go).
	// Needs a Store that implements OrderedStore (else ErrNotSupported).
	Ordered bool

	// Method is POST, PUT or PATCH, in any case. Empty: POST. Methods
	// without a body's meaning (GET, DELETE) are refused: servers and
	// proxies may drop or reject their bodies.
	Method string
	// ContentType is the media type application/json (the default) or
	// application/x-www-form-urlencoded, which sends payload=<json>, with
	// parameters if the receiver wants them: "application/json;
	// charset=utf-8". A charset, if given, must be utf-8 (bodies are
	// UTF-8). It is kept and sent in canonical form (mime.FormatMediaType:
	// type and parameter names in lower case), at most MaxContentTypeLen
	// bytes.
	ContentType string
	// MaxAttempts overrides the retry policy's number of attempts (first
	// try included) for this endpoint, 1 to MaxAttemptsLimit. 0: the policy
	// decides.
	MaxAttempts int
	// Headers are sent with every delivery; values are UTF-8 without
	// control characters other than tab. Names the library sets itself
	// (Content-Type, User-Agent, webhook-*, and the signature headers of
	// a Signer that lists them with HeaderLister) are rejected.
	Headers http.Header
	// RateLimit caps how fast attempts go to the endpoint (see RateLimit);
	// the zero value: Config.RateLimit applies. Needs a Store that
	// implements RateLimitStore (else ErrNotSupported).
	RateLimit RateLimit
}

// Endpoint is a customer's URL as stored. It never carries the secret.
type Endpoint struct {
	ID          string      // assigned by CreateEndpoint (a UUID)
	TenantID    string      // the owner; fixed at creation
	Name        string      // the customer's label
	URL         string      // sent to exactly as given
	Events      []string    // the filter; empty means every event
	Method      string      // POST, PUT or PATCH
	ContentType string      // ContentTypeJSON or ContentTypeForm, maybe with parameters
	MaxAttempts int         // 0: the retry policy decides
	Headers     http.Header // extra headers sent with every delivery

	// TenantSecret: deliveries are signed with the tenant's secrets, not
	// the endpoint's own (see EndpointParams.TenantSecret).
	TenantSecret bool
	// Unsigned: deliveries carry no signature; the endpoint has no secret
	// (see EndpointParams.Unsigned).
	Unsigned bool
	// Inactive endpoints are switched off by their owner (see
	// EndpointParams.Inactive): no new deliveries, pending ones wait. Not
	// the same as Disabled, which the library sets and which ends pending
	// deliveries; an endpoint may be both.
	Inactive bool

	// RateLimit is the endpoint's own rate limit (see
	// EndpointParams.RateLimit); zero: Config.RateLimit applies.
	RateLimit RateLimit
	// Ordered: deliveries go one at a time in publish order (see
	// EndpointParams.Ordered).
	Ordered bool

	// Disabled endpoints receive nothing: events published meanwhile create
	// no deliveries for them. DisabledReason and DisabledAt say why and
	// when; EnableEndpoint clears them.
	Disabled       bool
	DisabledReason string
	DisabledAt     time.Time

	// ConsecutiveFailures counts failed deliveries (retries exhausted or a
	// permanent failure) since the last successful attempt.
	ConsecutiveFailures int
	LastSuccessAt       time.Time
	LastFailureAt       time.Time
	LastFailureReason   string

	CreatedAt time.Time
	UpdatedAt time.Time // last configuration change
}

// RedactedURL returns URL for display in a list or dashboard: the path
// kept, any query replaced by "REDACTED" (a Sleekplan-style ?key= secret
// stays hidden), user info dropped: "https://example.com/hook?REDACTED".
// Endpoint.URL itself holds the URL exactly as given, since deliveries go
// there; logs show even less (scheme and host only).
func (e *Endpoint) RedactedURL() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return "<unparseable url>"
	}
	u.User = nil
	u.Fragment = ""
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "REDACTED", false
	}
	return u.String()
}

// Clone returns a deep copy, so callers may change it without touching
// what a Store holds.
func (e *Endpoint) Clone() *Endpoint {
	if e == nil {
		return nil
	}
	c := *e
	c.Events = append([]string(nil), e.Events...)
	if e.Headers != nil {
		c.Headers = e.Headers.Clone()
	}
	return &c
}

// Secret is one signing secret of an endpoint, or of a tenant (see
// EndpointParams.TenantSecret). During rotation an endpoint or tenant has
// several; deliveries are signed with every one that has not expired.
type Secret struct {
	Value     string
	CreatedAt time.Time
	// ExpiresAt is zero for the current secret and set to the end of the
	// grace period for the ones RotateSecret replaced.
	ExpiresAt time.Time
}

// Active reports whether the secret still signs at time now.
func (s Secret) Active(now time.Time) bool {
	return s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt)
}

// DeliveryState is where a delivery is in its life.
type DeliveryState string

// The states of a delivery. Pending deliveries wait for their next attempt;
// the other two are final until Recover or Redeliver queues them again.
const (
	StatePending   DeliveryState = "pending"
	StateSucceeded DeliveryState = "succeeded"
	StateFailed    DeliveryState = "failed"
)

// ReasonEndpointDisabled ends the pending deliveries of an endpoint that is
// disabled.
const ReasonEndpointDisabled = "endpoint disabled"

// StoredEvent is an event as the Store keeps it: the envelope already
// marshalled, exactly the bytes every delivery sends.
type StoredEvent struct {
	ID        string
	Type      string
	TenantID  string
	CreatedAt time.Time
	Body      []byte
	// Metadata is what Config.EventMetadata captured at Publish (a W3C
	// traceparent, say); nil when nothing was. Stores keep it with the
	// event and hand it to every attempt in Claim.Metadata.
	Metadata map[string]string
	// DeliverAt is Event.DeliverAt: a Store that makes the deliveries
	// itself (MatchEnqueuer) makes them first due at the later of it and
	// the time it is given (DueAt does the sum). Zero means at once.
	DeliverAt time.Time
}

// DueAt is when the deliveries of ev published at now are first due: the
// later of now and ev.DeliverAt.
func (ev *StoredEvent) DueAt(now time.Time) time.Time {
	if ev.DeliverAt.After(now) {
		return ev.DeliverAt
	}
	return now
}

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID         string
	EventID    string
	EventType  string
	TenantID   string
	EndpointID string
	State      DeliveryState
	// Attempts is how many attempts were made since the delivery was last
	// queued.
	Attempts int
	// NextAttemptAt is when a pending delivery is due.
	NextAttemptAt time.Time
	// LastError is the reason of the last failed attempt, or why the
	// delivery ended (ReasonEndpointDisabled).
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time

	// BlockedBy is set by GetDelivery and ListDeliveries (of a Store that
	// implements OrderedStore) on a pending delivery of an Ordered
	// endpoint that waits for an earlier delivery of that endpoint to end:
	// the ID of the delivery it waits for (the one in flight, or else the
	// endpoint's oldest pending delivery). Empty otherwise. It is computed
	// when read, not stored.
	BlockedBy string
}

// Attempt is one HTTP request of a delivery, as logged.
type Attempt struct {
	ID         string
	DeliveryID string
	EventID    string
	EndpointID string
	// Number is 1 for the first attempt of a delivery.
	Number     int
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int // 0 when no response arrived
	// ResponseBody is a bounded excerpt of what the endpoint answered.
	ResponseBody string
	// Error says why the attempt failed: a transport error, or the status.
	Error   string
	Success bool
}

// Limits on what an endpoint may hold.
const (
	MaxURLLen        = 2048
	MaxNameLen       = 200
	MaxTenantIDLen   = 255
	MaxEventFilters  = 100
	MaxAttemptsLimit = 50
	MaxHeaders       = 20
	// MaxContentTypeLen bounds EndpointParams.ContentType.
	MaxContentTypeLen = 200
	maxHeaderBytes    = 4096
)

// Content types an endpoint may ask for.
const (
	ContentTypeJSON = "application/json"
	// ContentTypeForm sends the envelope as payload=<url-escaped json>.
	ContentTypeForm = "application/x-www-form-urlencoded"
)

// redactURL returns what logs may show of an endpoint URL: scheme and
// host, with "/…" standing for any path or query, which may carry a secret
// (Sleekplan's ?key=, Slack-style /services/T/B/XXXX). Endpoint IDs in the
// same log line tell endpoints apart.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<unparseable url>"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Opaque != "" {
		out += "/…"
	}
	return out
}
