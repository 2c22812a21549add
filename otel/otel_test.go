package otel_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/otel"
)

// fixture is an instrumented dispatcher on a memstore, with spans and
// metrics kept in memory.
type fixture struct {
	d        *webhook.Dispatcher
	spans    *tracetest.InMemoryExporter
	tp       *sdktrace.TracerProvider
	reader   *sdkmetric.ManualReader
	attempts atomic.Int64 // counted by the application's own OnAttempt
}

func setup(t *testing.T, start bool, edit func(*webhook.Config)) *fixture {
	t.Helper()
	f := &fixture{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	f.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(f.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader))
	cfg := &webhook.Config{
		AllowPrivateNetworks: true,
		PollInterval:         5 * time.Millisecond,
		Retry:                webhook.FixedSchedule(time.Millisecond),
		OnAttempt:            func(webhook.AttemptResult) { f.attempts.Add(1) },
	}
	if edit != nil {
		edit(cfg)
	}
	ins, err := otel.Instrument(cfg, otel.WithTracerProvider(f.tp), otel.WithMeterProvider(mp))
	require.NoError(t, err)
	f.d, err = webhook.NewDispatcher(memstore.New(), cfg)
	require.NoError(t, err)
	reg, err := ins.RegisterStats(f.d)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Unregister() })
	if start {
		require.NoError(t, f.d.Start(context.Background()))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			assert.NoError(t, f.d.Shutdown(ctx))
		})
	}
	return f
}

// receiver answers 500 to its first request and 200 after, recording the
// headers it got.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.headers = append(rc.headers, r.Header.Clone())
		n := len(rc.headers)
		rc.mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 15*time.Second, 2*time.Millisecond, msg)
}

func attrs(kvs []attribute.KeyValue) map[string]attribute.Value {
	out := map[string]attribute.Value{}
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value
	}
	return out
}

func TestAttemptSpansAreLinkedToThePublishersSpan(t *testing.T) {
	f := setup(t, true, nil)
	rc := newReceiver(t)
	ctx := context.Background()
	ep, secret, err := f.d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "acme", URL: rc.URL + "/hook?key=query-secret-123"})
	require.NoError(t, err)

	pctx, publishSpan := f.tp.Tracer("app").Start(ctx, "POST /posts")
	ev, err := f.d.Publish(pctx, webhook.Event{Type: "post.created", TenantID: "acme"})
	require.NoError(t, err)
	publishSpan.End()
	eventually(t, func() bool { return f.attempts.Load() == 2 }, "a failed attempt, then a delivered one")

	stored, err := f.d.GetEvent(ctx, ev.ID)
	require.NoError(t, err)
	assert.Contains(t, stored.Metadata["traceparent"], publishSpan.SpanContext().TraceID().String(), "the trace context is stored with the event")

	var attempts []tracetest.SpanStub
	for _, s := range f.spans.GetSpans() {
		if s.SpanKind == trace.SpanKindClient {
			attempts = append(attempts, s)
		}
	}
	require.Len(t, attempts, 2)
	for i, s := range attempts {
		t.Run(fmt.Sprintf("attempt %d", i+1), func(t *testing.T) {
			assert.Equal(t, "POST", s.Name)
			assert.False(t, s.Parent.IsValid(), "a root span: it runs on a worker, not inside the publisher's trace")
			require.Len(t, s.Links, 1)
			assert.Equal(t, publishSpan.SpanContext().TraceID(), s.Links[0].SpanContext.TraceID())
			assert.Equal(t, publishSpan.SpanContext().SpanID(), s.Links[0].SpanContext.SpanID())

			a := attrs(s.Attributes)
			assert.Equal(t, "POST", a["http.request.method"].AsString())
			assert.Equal(t, "127.0.0.1", a["server.address"].AsString())
			assert.Equal(t, int64(rc.Listener.Addr().(*net.TCPAddr).Port), a["server.port"].AsInt64())
			assert.Equal(t, rc.URL+"/REDACTED?REDACTED", a["url.full"].AsString(), "paths may hold secrets too")
			assert.Equal(t, ep.ID, a["outhook.endpoint.id"].AsString())
			assert.Equal(t, "acme", a["outhook.tenant.id"].AsString())
			assert.Equal(t, ev.ID, a["outhook.event.id"].AsString())
			assert.Equal(t, "post.created", a["outhook.event.type"].AsString())
			assert.NotEmpty(t, a["outhook.delivery.id"].AsString())
			assert.Equal(t, int64(i+1), a["outhook.attempt.number"].AsInt64())
			if i == 0 {
				assert.Equal(t, int64(500), a["http.response.status_code"].AsInt64())
				assert.Equal(t, "500", a["error.type"].AsString())
				assert.Equal(t, codes.Error, s.Status.Code)
			} else {
				assert.Equal(t, int64(200), a["http.response.status_code"].AsInt64())
				assert.NotContains(t, a, "error.type")
				assert.NotEqual(t, codes.Error, s.Status.Code)
			}
			for k, v := range a {
				for _, leak := range []string{"query-secret-123", secret, strings.TrimPrefix(secret, "whsec_")} {
					assert.NotContains(t, v.Emit(), leak, "attribute %s", k)
				}
			}
		})
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, h := range rc.headers {
		assert.Empty(t, h.Get("traceparent"), "no trace context goes to the receiver")
	}
}

func TestTransportErrorsNameTheirTypeNotTheURL(t *testing.T) {
	f := setup(t, true, func(c *webhook.Config) { c.Retry = webhook.FixedSchedule() })
	closed := httptest.NewServer(http.NotFoundHandler())
	u := closed.URL
	closed.Close()
	_, _, err := f.d.CreateEndpoint(context.Background(), webhook.EndpointParams{URL: u + "/x?token=other-secret-456"})
	require.NoError(t, err)
	_, err = f.d.Publish(context.Background(), webhook.Event{Type: "post.created"}) // no span current: no link
	require.NoError(t, err)
	eventually(t, func() bool { return f.attempts.Load() == 1 }, "one failed attempt")
	spans := f.spans.GetSpans()
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Empty(t, s.Links)
	assert.Equal(t, codes.Error, s.Status.Code)
	assert.NotContains(t, s.Status.Description, "other-secret-456")
	a := attrs(s.Attributes)
	assert.NotContains(t, a, "http.response.status_code")
	assert.NotEmpty(t, a["error.type"].AsString())
	for k, v := range a {
		assert.NotContains(t, v.Emit(), "other-secret-456", "attribute %s", k)
	}
	for _, e := range s.Events {
		for _, kv := range e.Attributes {
			assert.NotContains(t, kv.Value.Emit(), "other-secret-456")
		}
	}
}

// collect reads every metric, by name.
func (f *fixture) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, f.reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func TestAttemptMetrics(t *testing.T) {
	f := setup(t, true, nil)
	rc := newReceiver(t)
	_, _, err := f.d.CreateEndpoint(context.Background(), webhook.EndpointParams{URL: rc.URL})
	require.NoError(t, err)
	_, err = f.d.Publish(context.Background(), webhook.Event{Type: "post.created"})
	require.NoError(t, err)
	eventually(t, func() bool { return f.attempts.Load() == 2 }, "the application's own OnAttempt still runs")

	ms := f.collect(t)
	sum, ok := ms[otel.MetricAttempts].Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a sum: %#v", otel.MetricAttempts, ms[otel.MetricAttempts])
	assert.True(t, sum.IsMonotonic)
	got := map[string]int64{}
	for _, dp := range sum.DataPoints {
		o, _ := dp.Attributes.Value(otel.AttrOutcome)
		c, _ := dp.Attributes.Value(otel.AttrStatusClass)
		got[o.AsString()+" "+c.AsString()] = dp.Value
	}
	assert.Equal(t, map[string]int64{"retry 5xx": 1, "success 2xx": 1}, got)

	hist, ok := ms[otel.MetricAttemptDuration].Data.(metricdata.Histogram[float64])
	require.True(t, ok)
	var n uint64
	for _, dp := range hist.DataPoints {
		n += dp.Count
		assert.Greater(t, dp.Sum, 0.0)
	}
	assert.Equal(t, uint64(2), n)
	assert.Equal(t, "s", ms[otel.MetricAttemptDuration].Unit)
}

func TestStatsGauges(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	f := setup(t, false, func(c *webhook.Config) { c.Clock = clock }) // not started: deliveries wait
	ctx := context.Background()
	a, _, err := f.d.CreateEndpoint(ctx, webhook.EndpointParams{URL: "http://127.0.0.1:1/a"})
	require.NoError(t, err)
	_, _, err = f.d.CreateEndpoint(ctx, webhook.EndpointParams{TenantID: "other", URL: "http://127.0.0.1:1/b"})
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, err = f.d.Publish(ctx, webhook.Event{Type: "post.created"})
		require.NoError(t, err)
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
	}
	_, err = f.d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: "other"})
	require.NoError(t, err)
	require.NoError(t, f.d.DisableEndpoint(ctx, a.ID, "maintenance"))
	mu.Lock()
	now = now.Add(30 * time.Second)
	mu.Unlock()

	ms := f.collect(t)
	gauge := func(name string) float64 {
		t.Helper()
		switch d := ms[name].Data.(type) {
		case metricdata.Gauge[int64]:
			require.Len(t, d.DataPoints, 1, name)
			return float64(d.DataPoints[0].Value)
		case metricdata.Gauge[float64]:
			require.Len(t, d.DataPoints, 1, name)
			return d.DataPoints[0].Value
		}
		t.Fatalf("%s is not a gauge: %#v", name, ms[name])
		return 0
	}
	// a's three deliveries ended with the disable; "other"'s one waits,
	// published 30 s ago.
	assert.Equal(t, 1.0, gauge(otel.MetricPending))
	assert.Equal(t, 30.0, gauge(otel.MetricOldestPendingAge))
	assert.Equal(t, 1.0, gauge(otel.MetricEndpointsDisabled))
}

func TestEventMetadataHooksAreChained(t *testing.T) {
	f := setup(t, false, func(c *webhook.Config) {
		c.EventMetadata = func(context.Context) map[string]string { return map[string]string{"x-mine": "kept"} }
	})
	ctx, span := f.tp.Tracer("app").Start(context.Background(), "publish")
	ev, err := f.d.Publish(ctx, webhook.Event{Type: "post.created"})
	require.NoError(t, err)
	span.End()
	stored, err := f.d.GetEvent(context.Background(), ev.ID)
	require.NoError(t, err)
	assert.Equal(t, "kept", stored.Metadata["x-mine"])
	assert.NotEmpty(t, stored.Metadata["traceparent"])
}

func TestInstrumentNilConfig(t *testing.T) {
	_, err := otel.Instrument(nil)
	require.Error(t, err)
}

func TestWithURLPathKeepsThePath(t *testing.T) {
	f := &fixture{spans: tracetest.NewInMemoryExporter()}
	f.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(f.spans))
	cfg := &webhook.Config{AllowPrivateNetworks: true}
	_, err := otel.Instrument(cfg, otel.WithTracerProvider(f.tp), otel.WithURLPath())
	require.NoError(t, err)
	d, err := webhook.NewDispatcher(memstore.New(), cfg)
	require.NoError(t, err)
	rc := newReceiver(t)
	ep, _, err := d.CreateEndpoint(context.Background(), webhook.EndpointParams{URL: rc.URL + "/in/hook?key=s3cret"})
	require.NoError(t, err)
	_, err = d.SendTest(context.Background(), ep.ID) // a span without a claim: no outhook attributes
	require.NoError(t, err)
	spans := f.spans.GetSpans()
	require.Len(t, spans, 1)
	a := attrs(spans[0].Attributes)
	assert.Equal(t, rc.URL+"/in/hook?REDACTED", a["url.full"].AsString())
	assert.NotContains(t, a, "outhook.endpoint.id")
}
