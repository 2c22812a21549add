package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Defaults for Config's zero fields.
const (
	DisableAfterDefault           = 5
	WorkersDefault                = 256
	MaxInFlightPerEndpointDefault = 4
	PollIntervalDefault           = time.Second
	LeaseDefault                  = 2 * time.Minute
	MaxPayloadBytesDefault        = 256 << 10
	MaxEndpointsPerTenantDefault  = 100
	MaxRetryAfterDefault          = time.Hour
	ResponseReadLimitDefault      = 64 << 10
	ResponseExcerptDefault        = 1 << 10
	MaintenanceIntervalDefault    = time.Minute
	MinSecretLenDefault           = 16
	// UserAgentDefault is the User-Agent of deliveries.
	UserAgentDefault = "outhook/" + Version
	// TestEventMessageDefault is the message of SendTest's event.
	TestEventMessageDefault = "This is a test delivery from outhook."
)

// Bounds on Config's texts.
const (
	MaxUserAgentLen        = 256
	MaxTestEventMessageLen = 1000
)

// AttemptResult tells Config.OnAttempt what one attempt did.
type AttemptResult struct {
	Attempt   Attempt
	EventType string
	// Endpoint is the endpoint as it is after the attempt: counters updated,
	// maybe disabled.
	Endpoint Endpoint
	Outcome  Outcome
	// RetryAt is when the next attempt is due (OutcomeRetry).
	RetryAt time.Time
}

// Config tunes a Dispatcher. The zero value of every field means its
// default; a nil *Config means all defaults.
type Config struct {
	// Client sends the requests. Defaults to NewClientWithOptions with
	// AllowPrivateNetworks, Workers, ConnectTimeout, RequestTimeout and
	// HTTPSOnly: no redirects, a keep-alive pool for Workers connections,
	// and the guard against non-public addresses. A Client of your own gets
	// no such guard unless its dialer has one (build it with
	// NewClientWithOptions to keep the guard); RequestTimeout still bounds
	// each request, through the request's context. A Client must return once that context ends:
	// one that ignores it can hold a delivery past its Lease (so it may be
	// sent twice) and keep its worker running after Shutdown has returned.
	Client Doer
	// Signer signs every delivery. Defaults to StandardSigner{}.
	Signer Signer
	// Envelope turns an event into the bytes sent. Defaults to
	// DefaultEnvelope: {"id","type","timestamp","tenant_id","data"}.
	Envelope func(Event) ([]byte, error)
	// Retry decides attempts and delays. If it implements RetryValidator,
	// NewDispatcher reports its Validate error. Defaults to
	// ExponentialRetry{}: 4 attempts, retries after about 60 s, 120 s and
	// 240 s.
	Retry RetryPolicy
	// DisableAfter is how many consecutive failed deliveries disable an
	// endpoint. Defaults to DisableAfterDefault (5); negative never
	// disables by count (410 Gone still does).
	DisableAfter int
	// HTTPSOnly requires endpoint URLs to be https: CreateEndpoint and
	// UpdateEndpoint reject http ones with a *ValidationError on URL. The
	// default client also refuses to send plain HTTP, so an http endpoint
	// stored before the option was set fails its attempts ("refused: not
	// https") instead of sending in clear. Defaults to false.
	HTTPSOnly bool
	// AllowPrivateNetworks lets endpoints and the default client reach
	// loopback, private and other non-public addresses: for tests and
	// intranet deployments. Defaults to false. With a Client of your own,
	// only the check of endpoint URLs at creation remains.
	AllowPrivateNetworks bool
	// Logger receives one line per attempt and per disabled endpoint. It
	// never sees secrets or URL query values. The levels keep a default
	// Info log quiet while everything works: a delivered attempt is Debug;
	// a failed attempt that will be retried is Info (an endpoint in
	// trouble, at most once per retry); a failed delivery, a disabled
	// endpoint, an attempt aborted by Shutdown and a lost lease are Warn;
	// what the dispatcher cannot do (record an attempt, claim, sign) is
	// Error. Defaults to discarding.
	Logger *slog.Logger

	// Workers is how many attempts may be in flight at once, across all
	// endpoints: each runs in a goroutine of its own while it waits on the
	// network, and an endpoint holds at most its allowance of them (see
	// MaxInFlightPerEndpoint), so endpoints that hang cannot take them all.
	// Memory is bounded by it: an attempt holds at most
	// ResponseReadLimitDefault (64 KiB) of response and its request
	// headers, the body being shared by every attempt of its event, so the
	// default 256 bounds what attempts hold at about 20 MiB. With a Store
	// that batches completions (BatchCompleter), an attempt leaves its
	// place when the endpoint has answered and waits to be recorded in a
	// queue of at most 4×Workers, each holding its response excerpt
	// (ResponseExcerpt, 1 KiB by default). It also sizes the default
	// Client's keep-alive pool. Defaults to WorkersDefault.
	Workers int
	// MaxInFlightPerEndpoint caps the attempts one endpoint may have in
	// flight in this process. Each endpoint's allowance moves between 1 and
	// this cap as it behaves: a timeout, a connection error or a 429, 502,
	// 503 or 504 halves it, a success grows it by one. A rate-limited
	// endpoint's effective rate is cut and grows back the same way (see
	// RateLimit). An endpoint at its
	// full allowance may also have as many deliveries claimed ahead,
	// waiting for a place. Defaults to MaxInFlightPerEndpointDefault, at
	// most Workers.
	MaxInFlightPerEndpoint int
	// RateLimit is the rate limit of every endpoint without one of its
	// own (Endpoint.RateLimit): attempts a second and burst, shared with
	// the other Dispatchers on the Store when it is a SharedRateStore
	// (see RateLimit); Dispatchers sharing a Store should set the same.
	// Zero: endpoints without their own are unlimited.
	RateLimit RateLimit
	// PollInterval is how often workers look for due deliveries (retries,
	// deliveries written by other processes) when nothing wakes them, and
	// how long they wait after a Claim fails before the next (wake-ups
	// are ignored meanwhile, so a failing Store is not asked again at
	// once). Defaults to PollIntervalDefault.
	PollInterval time.Duration
	// RequestTimeout bounds every request, whatever the Client. Defaults to
	// RequestTimeoutDefault (30 s).
	RequestTimeout time.Duration
	// ConnectTimeout bounds connecting to an endpoint: the TCP connection,
	// and the TLS handshake after it, each. It applies to the default
	// client only (a Client of your own has its own dialer). Defaults to
	// ConnectTimeoutDefault (10 s).
	ConnectTimeout time.Duration
	// Lease is how long a claimed delivery stays invisible to other workers;
	// after a crash it is retried once the lease expires. An attempt holds
	// its delivery for at most RequestTimeout to send and then for at most
	// the recording bound, min(RequestTimeout, 10 s), to record the answer
	// (Store.Complete; an attempt not recorded in time is sent again once
	// its lease expires). Lease must exceed the two together, so that two
	// workers never send the same delivery at once: more than RequestTimeout
	// + 10 s, or more than twice a RequestTimeout below 10 s. Leave headroom
	// for slow Claim queries and clock skew: instances sharing a database
	// judge leases by their own clocks, so keep those in sync (NTP).
	// Defaults to LeaseDefault (2 min).
	Lease time.Duration
	// MaxPayloadBytes caps the marshalled envelope. Defaults to
	// MaxPayloadBytesDefault (256 KiB).
	MaxPayloadBytes int
	// MaxEndpointsPerTenant caps a tenant's endpoints (ProductLift: 10).
	// Defaults to MaxEndpointsPerTenantDefault; negative means no cap.
	MaxEndpointsPerTenant int
	// MaxRetryAfter bounds how long a Retry-After header on 429 or 503 may
	// postpone the next attempt, and pause the endpoint: no attempt to it
	// starts in this Dispatcher until then (the pause is per process, not
	// shared with other Dispatchers on the same database). Defaults to
	// MaxRetryAfterDefault (1 h).
	MaxRetryAfter time.Duration
	// ResponseExcerpt is how much of a response body the attempt log keeps.
	// At most ResponseReadLimitDefault (64 KiB) is ever read. Defaults to
	// ResponseExcerptDefault (1 KiB).
	ResponseExcerpt int
	// EventTypes, when set, is the catalogue of event types: Publish
	// rejects others with ErrUnknownEventType, and endpoint filters must
	// match at least one. Defaults to accepting any well-formed type.
	EventTypes []string
	// UserAgent is the User-Agent header of every delivery. Defaults to
	// UserAgentDefault ("outhook/" + Version); a white-label product sends
	// its own name. At most MaxUserAgentLen bytes of UTF-8 without control
	// characters or surrounding spaces.
	UserAgent string
	// TestEventMessage is the message of the event SendTest sends, as its
	// data: {"message": TestEventMessage}. Defaults to
	// TestEventMessageDefault, which names outhook; a white-label product
	// writes its own. At most MaxTestEventMessageLen bytes of UTF-8
	// without control characters.
	TestEventMessage string
	// MinSecretLen is the shortest secret a caller may supply
	// (EndpointParams.Secret, SetTenantSecret); generated secrets are 32
	// random bytes whatever it says. A product whose customers type
	// secrets of any length (the workspace product) sets 1. Defaults to
	// MinSecretLenDefault (16); at most 256.
	MinSecretLen int
	// Clock is the time source. Defaults to time.Now.
	Clock func() time.Time
	// MaintenanceInterval is how often a Store implementing Maintainer is
	// maintained. Defaults to MaintenanceIntervalDefault.
	MaintenanceInterval time.Duration

	// OnAttempt, if set, is called after every recorded attempt: from the
	// worker that made it, or, with a Store that batches completions
	// (BatchCompleter), from a goroutine of the Dispatcher once the batch is
	// written, in turn with the batch's other attempts: keep it fast. Shutdown waits for it until its
	// context ends and then returns anyway: a hook that blocks keeps its
	// worker goroutine running after Shutdown has returned.
	OnAttempt func(AttemptResult)
	// OnEndpointDisabled, if set, is called once when an endpoint is
	// disabled automatically (failures reached DisableAfter, or 410 Gone),
	// so the application can tell its customer. Not called for
	// DisableEndpoint. Like OnAttempt it runs on the worker or, after the batch's
	// OnAttempt calls, on the completer's goroutine: keep it fast,
	// and hand slow work (an email) to a goroutine or queue of your own.
	OnEndpointDisabled func(Endpoint)

	// EventMetadata, if set, is called by Publish and PublishTx with their
	// ctx; the entries it returns are stored with the event
	// (StoredEvent.Metadata) and reach every attempt (Claim.Metadata), so
	// that a trace context current at Publish (a W3C traceparent and
	// tracestate) can be linked from the attempts, in this process or
	// another. At most MaxMetadataEntries entries with keys of printable
	// ASCII and MaxMetadataBytes in all: more makes Publish return a
	// *ValidationError. The otel module sets it. Defaults to nil: no
	// metadata.
	EventMetadata func(ctx context.Context) map[string]string
	// AttemptContext, if set, derives the context of each attempt's HTTP
	// request from ctx (the worker's context, bounded by RequestTimeout)
	// and the claim being sent, e.g. to carry the event's trace link to a
	// Client that makes spans. It must return ctx or a context derived
	// from it; nil means ctx. It must not modify the claim. Defaults to
	// nil.
	AttemptContext func(ctx context.Context, c *Claim) context.Context
	// WrapClient, if set, wraps the Client (yours, or the default one)
	// once, at NewDispatcher: instrumentation such as the otel module's
	// span per attempt. The wrapper must honour the request's context
	// like any Client, and should have a CloseIdleConnections method that
	// calls the wrapped one's, so Shutdown still closes idle connections.
	// Defaults to nil.
	WrapClient func(Doer) Doer
}

// withDefaults returns a copy of c with every zero field set and checks
// the result.
func (c *Config) withDefaults() (Config, error) {
	var cfg Config
	if c != nil {
		cfg = *c
	}
	if cfg.Signer == nil {
		cfg.Signer = StandardSigner{}
	}
	if cfg.Envelope == nil {
		cfg.Envelope = DefaultEnvelope
	}
	if cfg.Retry == nil {
		cfg.Retry = ExponentialRetry{}
	}
	if cfg.DisableAfter == 0 {
		cfg.DisableAfter = DisableAfterDefault
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.Level(127)}))
	}
	setDefault(&cfg.Workers, WorkersDefault)
	setDefault(&cfg.MaxInFlightPerEndpoint, MaxInFlightPerEndpointDefault)
	cfg.MaxInFlightPerEndpoint = min(cfg.MaxInFlightPerEndpoint, cfg.Workers)
	setDefault(&cfg.PollInterval, PollIntervalDefault)
	setDefault(&cfg.RequestTimeout, RequestTimeoutDefault)
	setDefault(&cfg.Lease, LeaseDefault)
	setDefault(&cfg.MaxPayloadBytes, MaxPayloadBytesDefault)
	setDefault(&cfg.MaxEndpointsPerTenant, MaxEndpointsPerTenantDefault)
	setDefault(&cfg.MaxRetryAfter, MaxRetryAfterDefault)
	setDefault(&cfg.ResponseExcerpt, ResponseExcerptDefault)
	setDefault(&cfg.MaintenanceInterval, MaintenanceIntervalDefault)
	setDefault(&cfg.MinSecretLen, MinSecretLenDefault)
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	setDefault(&cfg.ConnectTimeout, ConnectTimeoutDefault)
	if cfg.UserAgent == "" {
		cfg.UserAgent = UserAgentDefault
	}
	if cfg.TestEventMessage == "" {
		cfg.TestEventMessage = TestEventMessageDefault
	}
	if cfg.Client == nil {
		cfg.Client = NewClientWithOptions(ClientOptions{
			AllowPrivateNetworks: cfg.AllowPrivateNetworks,
			Workers:              cfg.Workers,
			ConnectTimeout:       cfg.ConnectTimeout,
			RequestTimeout:       cfg.RequestTimeout,
			HTTPSOnly:            cfg.HTTPSOnly,
		})
	}
	if cfg.WrapClient != nil {
		if cfg.Client = cfg.WrapClient(cfg.Client); cfg.Client == nil {
			return cfg, errors.New("webhook: Config.WrapClient returned nil: return the Doer it was given, wrapped")
		}
	}
	return cfg, cfg.validate()
}

// recordTimeoutMax caps recordTimeout.
const recordTimeoutMax = 10 * time.Second

// recordTimeout bounds recording one attempt (Store.Complete), which runs
// detached from the request's and Start's contexts so that an answer is
// recorded even as Shutdown begins; Shutdown's expiry still cancels it. It
// is documented on Config.Lease, which must exceed RequestTimeout plus it.
func (c *Config) recordTimeout() time.Duration {
	return min(c.RequestTimeout, recordTimeoutMax)
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("webhook: Config."+format, args...))
	}
	if c.Workers < 0 {
		bad("Workers is %d: use a positive number, or 0 for %d", c.Workers, WorkersDefault)
	}
	if c.MaxInFlightPerEndpoint < 0 {
		bad("MaxInFlightPerEndpoint is %d: use a positive number, or 0 for %d", c.MaxInFlightPerEndpoint, MaxInFlightPerEndpointDefault)
	}
	for name, d := range map[string]time.Duration{"PollInterval": c.PollInterval, "RequestTimeout": c.RequestTimeout, "ConnectTimeout": c.ConnectTimeout, "Lease": c.Lease, "MaxRetryAfter": c.MaxRetryAfter, "MaintenanceInterval": c.MaintenanceInterval} {
		if d < 0 {
			bad("%s is negative: use a positive duration, or 0 for the default", name)
		}
	}
	if rec := c.recordTimeout(); c.RequestTimeout >= 0 && c.Lease-c.RequestTimeout <= rec {
		bad("Lease (%s) must exceed RequestTimeout (%s) plus the %s an attempt may take to be recorded, or a slow attempt could be sent twice at once: raise Lease or lower RequestTimeout", c.Lease, c.RequestTimeout, rec)
	}
	if err := c.RateLimit.check("RateLimit"); err != nil {
		var ve *ValidationError
		errors.As(err, &ve)
		bad("%s: %s", ve.Field, ve.Reason)
	}
	if c.MinSecretLen < 0 || c.MinSecretLen > maxSecretLen {
		bad("MinSecretLen is %d: use 1 to %d, or 0 for %d", c.MinSecretLen, maxSecretLen, MinSecretLenDefault)
	}
	if c.MaxPayloadBytes < 0 {
		bad("MaxPayloadBytes is negative: use a positive size, or 0 for %d", MaxPayloadBytesDefault)
	}
	if c.ResponseExcerpt < 0 || c.ResponseExcerpt > ResponseReadLimitDefault {
		bad("ResponseExcerpt is %d: use 1 to %d, or 0 for %d", c.ResponseExcerpt, ResponseReadLimitDefault, ResponseExcerptDefault)
	}
	if len(c.UserAgent) > MaxUserAgentLen || strings.TrimSpace(c.UserAgent) != c.UserAgent || !validLabel(c.UserAgent) {
		bad("UserAgent is %q: use at most %d bytes of UTF-8 without control characters or surrounding spaces, or empty for %q", c.UserAgent, MaxUserAgentLen, UserAgentDefault)
	}
	if len(c.TestEventMessage) > MaxTestEventMessageLen || !validLabel(c.TestEventMessage) {
		bad("TestEventMessage: use at most %d bytes of UTF-8 without control characters, or empty for %q", MaxTestEventMessageLen, TestEventMessageDefault)
	}
	if v, ok := c.Retry.(RetryValidator); ok {
		if err := v.Validate(); err != nil {
			bad("Retry: %w", err)
		}
	}
	if n := c.Retry.Attempts(); n < 1 || n > MaxAttemptsLimit {
		bad("Retry.Attempts() is %d: use 1 to %d", n, MaxAttemptsLimit)
	}
	return errors.Join(errs...)
}
