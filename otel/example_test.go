package otel_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/otel"
)

// Example_prometheus exports outhook's metrics to Prometheus: the
// OpenTelemetry Prometheus exporter feeds a registry that promhttp serves
// on /metrics, which the example then scrapes.
func Example_prometheus() {
	// Prometheus: a registry, the exporter that fills it, a meter provider.
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		panic(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer metrics.Close()

	// A receiver, and a dispatcher instrumented before it is made.
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer receiver.Close()
	delivered := make(chan struct{}, 1)
	cfg := &webhook.Config{
		AllowPrivateNetworks: true, // the receiver is on loopback
		OnAttempt:            func(webhook.AttemptResult) { delivered <- struct{}{} },
	}
	ins, err := otel.Instrument(cfg, otel.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	d, err := webhook.NewDispatcher(memstore.New(), cfg)
	if err != nil {
		panic(err)
	}
	gauges, err := ins.RegisterStats(d)
	if err != nil {
		panic(err)
	}
	defer gauges.Unregister()
	ctx := context.Background()
	if err := d.Start(ctx); err != nil {
		panic(err)
	}
	defer d.Shutdown(ctx)

	if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: receiver.URL}); err != nil {
		panic(err)
	}
	if _, err := d.Publish(ctx, webhook.Event{Type: "post.created"}); err != nil {
		panic(err)
	}
	select {
	case <-delivered:
	case <-time.After(10 * time.Second):
		panic("not delivered")
	}

	// Scrape /metrics as Prometheus would, and list outhook's series.
	res, err := http.Get(metrics.URL)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "outhook_") {
			name, _, _ := strings.Cut(line, "{")
			name, _, _ = strings.Cut(name, " ")
			names[name] = true
		}
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		fmt.Println(n)
	}
	// Output:
	// outhook_attempt_duration_seconds_bucket
	// outhook_attempt_duration_seconds_count
	// outhook_attempt_duration_seconds_sum
	// outhook_attempts_total
	// outhook_deliveries_oldest_pending_age_seconds
	// outhook_deliveries_pending
	// outhook_endpoints_disabled
}
