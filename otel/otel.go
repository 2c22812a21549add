// Package otel instruments an outhook Dispatcher with OpenTelemetry: a
// client span per delivery attempt, linked to the span that was current
// when the event was published, and metrics for attempts, their duration,
// the backlog and the disabled endpoints. It lives in a module of its own
// (github.com/outhook/webhook/otel) so that the library itself depends on
// no OpenTelemetry package.
//
// Wire it before NewDispatcher, then register the gauges on the
// Dispatcher:
//
//	cfg := &webhook.Config{ /* ... */ }
//	ins, err := otel.Instrument(cfg) // global providers; see the Options
//	d, err := webhook.NewDispatcher(store, cfg)
//	reg, err := ins.RegisterStats(d)
//	defer reg.Unregister()
//
// # Traces
//
// Instrument sets Config.EventMetadata to inject the span context current
// at Publish or PublishTx (W3C traceparent and tracestate, by default) into
// the event's metadata, which the Store keeps with the event; so the
// link survives a restart, and works when another process delivers.
// Config.AttemptContext and Config.WrapClient then make one span of kind
// client per attempt, named after the HTTP method, a root span (attempts
// run on the dispatcher's workers, not inside the publisher's trace) with
// a link to the publisher's span, and these attributes:
//
//	http.request.method         POST, PUT or PATCH
//	server.address, server.port the endpoint's host and port
//	url.full                    the endpoint URL without user info, its
//	                            path and query each replaced by REDACTED
//	                            (https://hooks.example.com/REDACTED?REDACTED):
//	                            a Sleekplan-style ?key= or a Slack-style
//	                            /services/T/B/XXXX secret stays out of
//	                            traces, as out of the logs; WithURLPath
//	                            keeps the path
//	http.response.status_code   when an answer arrived
//	error.type                  the status code of a non-2xx answer, or
//	                            "timeout", "canceled" or the Go type of a
//	                            transport error (never its text, which may
//	                            hold the URL)
//	outhook.endpoint.id, outhook.tenant.id, outhook.event.id,
//	outhook.event.type, outhook.delivery.id, outhook.attempt.number
//
// Nothing is sent to the receiver: no traceparent header goes out, since
// receivers are other companies' servers.
//
// # Metrics
//
// Attempts are counted through Config.OnAttempt (any hook already set is
// still called, right after), with the attributes outhook.outcome ("success",
// "retry", "fail") and outhook.status_class ("2xx", "3xx", "4xx", "5xx",
// or "none" when no answer arrived):
//
//	outhook.attempts          counter, {attempt}
//	outhook.attempt.duration  histogram, s
//
// RegisterStats adds observable gauges that call Dispatcher.Stats (the
// backlog only, Window 0) at each collection:
//
//	outhook.deliveries.pending            {delivery}
//	outhook.deliveries.oldest_pending.age s
//	outhook.endpoints.disabled            {endpoint}
//
// In Prometheus (through go.opentelemetry.io/otel/exporters/prometheus)
// these are outhook_attempts_total, outhook_attempt_duration_seconds,
// outhook_deliveries_pending, outhook_deliveries_oldest_pending_age_seconds
// and outhook_endpoints_disabled. No metric has an endpoint or tenant
// attribute: their number is unbounded. Per endpoint, read Dispatcher.Stats
// with ByEndpoint.
package otel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	gootel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	webhook "github.com/outhook/webhook"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/outhook/webhook/otel"

// Attribute keys of the spans and metrics that are outhook's own.
const (
	AttrEndpointID    = attribute.Key("outhook.endpoint.id")
	AttrTenantID      = attribute.Key("outhook.tenant.id")
	AttrEventID       = attribute.Key("outhook.event.id")
	AttrEventType     = attribute.Key("outhook.event.type")
	AttrDeliveryID    = attribute.Key("outhook.delivery.id")
	AttrAttemptNumber = attribute.Key("outhook.attempt.number")
	AttrOutcome       = attribute.Key("outhook.outcome")
	AttrStatusClass   = attribute.Key("outhook.status_class")
)

// Metric names.
const (
	MetricAttempts          = "outhook.attempts"
	MetricAttemptDuration   = "outhook.attempt.duration"
	MetricPending           = "outhook.deliveries.pending"
	MetricOldestPendingAge  = "outhook.deliveries.oldest_pending.age"
	MetricEndpointsDisabled = "outhook.endpoints.disabled"
)

// Option configures Instrument.
type Option func(*options)

type options struct {
	tp      trace.TracerProvider
	mp      metric.MeterProvider
	prop    propagation.TextMapPropagator
	keepURL bool
}

// WithURLPath keeps the endpoint URL's path in the url.full attribute,
// for deployments whose endpoint paths hold no secrets. Defaults to
// replacing it with REDACTED. The query is replaced either way.
func WithURLPath() Option {
	return func(o *options) { o.keepURL = true }
}

// WithTracerProvider sets where spans go. Defaults to the global
// provider (otel.GetTracerProvider at Instrument).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// WithMeterProvider sets where metrics go. Defaults to the global
// provider (otel.GetMeterProvider at Instrument).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.mp = mp }
}

// WithPropagator sets how the span context is stored with the event and
// read back. Defaults to propagation.TraceContext{} (W3C traceparent and
// tracestate), whatever the global propagator is.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(o *options) { o.prop = p }
}

// Instrumentation is what Instrument wired into a Config.
type Instrumentation struct {
	keepPath bool
	tracer   trace.Tracer
	meter    metric.Meter
	prop     propagation.TextMapPropagator
	attempts metric.Int64Counter
	duration metric.Float64Histogram
}

// Instrument wires spans and attempt metrics into cfg: it sets
// EventMetadata, AttemptContext, WrapClient and OnAttempt, each calling
// the one already set, if any (EventMetadata's entries are kept, the trace
// context's added). Call it before NewDispatcher(store, cfg), once per
// Config, then RegisterStats for the gauges.
func Instrument(cfg *webhook.Config, opts ...Option) (*Instrumentation, error) {
	if cfg == nil {
		return nil, errors.New("otel: Instrument: cfg is nil; pass the *webhook.Config you give NewDispatcher")
	}
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.tp == nil {
		o.tp = gootel.GetTracerProvider()
	}
	if o.mp == nil {
		o.mp = gootel.GetMeterProvider()
	}
	if o.prop == nil {
		o.prop = propagation.TraceContext{}
	}
	ins := &Instrumentation{
		tracer:   o.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(webhook.Version)),
		meter:    o.mp.Meter(ScopeName, metric.WithInstrumentationVersion(webhook.Version)),
		prop:     o.prop,
		keepPath: o.keepURL,
	}
	var err error
	ins.attempts, err = ins.meter.Int64Counter(MetricAttempts, metric.WithUnit("{attempt}"),
		metric.WithDescription("Delivery attempts made, by outcome and status class."))
	if err != nil {
		return nil, fmt.Errorf("otel: %s: %w", MetricAttempts, err)
	}
	ins.duration, err = ins.meter.Float64Histogram(MetricAttemptDuration, metric.WithUnit("s"),
		metric.WithDescription("How long delivery attempts took, by outcome and status class."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30))
	if err != nil {
		return nil, fmt.Errorf("otel: %s: %w", MetricAttemptDuration, err)
	}

	prevMD := cfg.EventMetadata
	cfg.EventMetadata = func(ctx context.Context) map[string]string {
		var md map[string]string
		if prevMD != nil {
			md = prevMD(ctx)
		}
		return ins.inject(ctx, md)
	}
	prevCtx := cfg.AttemptContext
	cfg.AttemptContext = func(ctx context.Context, c *webhook.Claim) context.Context {
		if prevCtx != nil {
			if pctx := prevCtx(ctx, c); pctx != nil {
				ctx = pctx
			}
		}
		return context.WithValue(ctx, claimKey{}, c)
	}
	prevWrap := cfg.WrapClient
	cfg.WrapClient = func(next webhook.Doer) webhook.Doer {
		if prevWrap != nil {
			next = prevWrap(next)
		}
		return &doer{next: next, ins: ins}
	}
	prevOn := cfg.OnAttempt
	cfg.OnAttempt = func(r webhook.AttemptResult) {
		ins.record(r)
		if prevOn != nil {
			prevOn(r)
		}
	}
	return ins, nil
}

// inject adds the span context current in ctx to md (a copy), keeping
// within webhook.MaxMetadataBytes: a tracestate that would not fit is left
// out rather than failing Publish.
func (ins *Instrumentation) inject(ctx context.Context, md map[string]string) map[string]string {
	carrier := propagation.MapCarrier{}
	ins.prop.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return md
	}
	out := make(map[string]string, len(md)+len(carrier))
	total := 0
	for k, v := range md {
		out[k] = v
		total += len(k) + len(v)
	}
	for _, k := range carrier.Keys() { // traceparent first: it is what links
		if k == "traceparent" {
			v := carrier.Get(k)
			out[k] = v
			total += len(k) + len(v)
		}
	}
	for _, k := range carrier.Keys() {
		if k == "traceparent" {
			continue
		}
		v := carrier.Get(k)
		if total+len(k)+len(v) > webhook.MaxMetadataBytes || len(out) >= webhook.MaxMetadataEntries {
			continue
		}
		out[k] = v
		total += len(k) + len(v)
	}
	return out
}

// link returns the link to the span whose context md carries, if any.
func (ins *Instrumentation) link(md map[string]string) (trace.Link, bool) {
	if len(md) == 0 {
		return trace.Link{}, false
	}
	sc := trace.SpanContextFromContext(ins.prop.Extract(context.Background(), propagation.MapCarrier(md)))
	if !sc.IsValid() {
		return trace.Link{}, false
	}
	return trace.Link{SpanContext: sc}, true
}

// record counts one attempt.
func (ins *Instrumentation) record(r webhook.AttemptResult) {
	set := metric.WithAttributeSet(attribute.NewSet(
		AttrOutcome.String(r.Outcome.String()),
		AttrStatusClass.String(statusClass(r.Attempt.StatusCode)),
	))
	ctx := context.Background() // OnAttempt has no context; the instruments need none
	ins.attempts.Add(ctx, 1, set)
	ins.duration.Record(ctx, r.Attempt.Duration.Seconds(), set)
}

// statusClass is "2xx" for 200 to 299 and so on; "none" without an
// answer.
func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "none"
	}
	return strconv.Itoa(code/100) + "xx"
}

// RegisterStats registers the gauges of the backlog and the disabled
// endpoints, which call d.Stats at each collection. A Store without
// webhook.StatsReader makes each collection report webhook.ErrNotSupported
// (to the SDK's error handler) and observe nothing. Unregister the result
// when d is shut down.
func (ins *Instrumentation) RegisterStats(d *webhook.Dispatcher) (metric.Registration, error) {
	if d == nil {
		return nil, errors.New("otel: RegisterStats: the Dispatcher is nil")
	}
	pending, err := ins.meter.Int64ObservableGauge(MetricPending, metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries waiting or in flight."))
	if err != nil {
		return nil, fmt.Errorf("otel: %s: %w", MetricPending, err)
	}
	oldest, err := ins.meter.Float64ObservableGauge(MetricOldestPendingAge, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest pending delivery (now minus its creation); 0 when none is pending."))
	if err != nil {
		return nil, fmt.Errorf("otel: %s: %w", MetricOldestPendingAge, err)
	}
	disabled, err := ins.meter.Int64ObservableGauge(MetricEndpointsDisabled, metric.WithUnit("{endpoint}"),
		metric.WithDescription("Endpoints disabled, automatically or by hand."))
	if err != nil {
		return nil, fmt.Errorf("otel: %s: %w", MetricEndpointsDisabled, err)
	}
	return ins.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		st, err := d.Stats(ctx, webhook.StatsParams{})
		if err != nil {
			return fmt.Errorf("otel: outhook gauges: %w", err)
		}
		o.ObserveInt64(pending, int64(st.Pending))
		o.ObserveFloat64(oldest, st.OldestPendingAge.Seconds())
		o.ObserveInt64(disabled, int64(st.EndpointsDisabled))
		return nil
	}, pending, oldest, disabled)
}

// claimKey is the context key of the claim an attempt sends.
type claimKey struct{}

// doer wraps the dispatcher's Client with a span per request.
type doer struct {
	next webhook.Doer
	ins  *Instrumentation
}

// Do sends req inside a client span.
func (d *doer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", req.Method),
		attribute.String("url.full", redactedURL(req.URL, d.ins.keepPath)),
	}
	if host := req.URL.Hostname(); host != "" {
		attrs = append(attrs, attribute.String("server.address", host))
	}
	if port := serverPort(req.URL); port > 0 {
		attrs = append(attrs, attribute.Int("server.port", port))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	if c, _ := ctx.Value(claimKey{}).(*webhook.Claim); c != nil {
		if c.Endpoint != nil {
			attrs = append(attrs, AttrEndpointID.String(c.Endpoint.ID), AttrTenantID.String(c.Endpoint.TenantID))
		}
		if c.Delivery != nil {
			attrs = append(attrs,
				AttrEventID.String(c.Delivery.EventID),
				AttrEventType.String(c.Delivery.EventType),
				AttrDeliveryID.String(c.Delivery.ID),
				AttrAttemptNumber.Int(c.Delivery.Attempts+1))
		}
		if l, ok := d.ins.link(c.Metadata); ok {
			opts = append(opts, trace.WithLinks(l))
		}
	}
	opts = append(opts, trace.WithAttributes(attrs...))
	ctx, span := d.ins.tracer.Start(ctx, req.Method, opts...)
	defer span.End()

	res, err := d.next.Do(req.WithContext(ctx))
	if err != nil {
		kind := errorType(err)
		span.SetAttributes(attribute.String("error.type", kind))
		span.SetStatus(codes.Error, "request failed: "+kind) // not err's text: it may hold the URL
		return res, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", res.StatusCode))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		// Any answer but 2xx fails a webhook attempt.
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(res.StatusCode)))
		span.SetStatus(codes.Error, "HTTP "+strconv.Itoa(res.StatusCode))
	}
	return res, nil
}

// CloseIdleConnections closes the wrapped Client's idle connections, if
// it can, so Shutdown still does.
func (d *doer) CloseIdleConnections() {
	if c, ok := d.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// redactedURL is u without user info and fragment, its query replaced by
// REDACTED, and its path too unless keepPath.
func redactedURL(u *url.URL, keepPath bool) string {
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" || c.ForceQuery {
		c.RawQuery, c.ForceQuery = "REDACTED", false
	}
	if !keepPath && c.Path != "" && c.Path != "/" {
		c.Path, c.RawPath = "/REDACTED", ""
	}
	return c.String()
}

// serverPort is u's port, or the scheme's default.
func serverPort(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}

// errorType names a transport error without its text: "timeout",
// "canceled", or the Go type of the innermost cause worth naming.
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return fmt.Sprintf("%T", err)
}
