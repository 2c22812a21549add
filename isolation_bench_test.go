package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// BenchmarkIsolation measures what broken endpoints cost the healthy ones:
// the deliveries per second that 10 healthy endpoints receive on their own
// (the baseline, measured in the same run, at a fixed offered load of 1000
// events/s) and beside endpoints that hang
// (accept and never answer) or misbehave in the other ways a bad day brings
// (slowloris headers, endless bodies, resets, garbage, 429 with a long
// Retry-After). It reports each mix's healthy rate as a ratio of the
// baseline; the target is 0.9 or more.
//
//	go test -run '^$' -bench Isolation -benchtime 1x .
func BenchmarkIsolation(b *testing.B) {
	const healthy = 10
	window := 3 * time.Second
	base := isolationRun(b, healthy, nil, window)
	b.ReportMetric(base, "healthy/s")
	for _, mix := range []struct {
		name string
		bad  []string
	}{
		{"10pct-hanging", repeat("hang", 1)},
		{"30pct-hanging", repeat("hang", 4)},
		{"misbehaving", []string{"hang", "hang", "slowloris", "endless", "reset", "garbage", "429"}},
	} {
		got := isolationRun(b, healthy, mix.bad, window)
		b.ReportMetric(got/base, mix.name+"-ratio")
		b.Logf("%s: %.0f healthy deliveries/s, %.2fx the %.0f/s of the healthy endpoints alone", mix.name, got, got/base, base)
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// isolationRun publishes to healthy + len(bad) endpoints, each in a tenant
// of its own, for window and returns the healthy deliveries per second.
func isolationRun(b *testing.B, healthy int, bad []string, window time.Duration) float64 {
	const rounds = 100 // a second: 1000 events/s to the healthy endpoints
	b.Helper()
	var received atomic.Int64
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ok.Close()
	ctx := context.Background()
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
		AllowPrivateNetworks: true,
		RequestTimeout:       time.Second,
		Lease:                5 * time.Second,
		DisableAfter:         -1, // keep the broken endpoints broken
		Retry:                webhook.FixedSchedule(50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond),
	})
	if err != nil {
		b.Fatal(err)
	}
	var tenants []string
	for i := 0; i < healthy; i++ {
		tenants = append(tenants, createIn(b, d, fmt.Sprintf("ok-%d", i), ok.URL))
	}
	for i, kind := range bad {
		url := webhooktest.NewHostile(b, webhooktest.Misbehavior(kind))
		tenants = append(tenants, createIn(b, d, fmt.Sprintf("bad-%d-%s", i, kind), url))
	}
	if err := d.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = d.Shutdown(sctx)
	}()

	// Publish one event to every tenant, rounds a second: the same offered
	// load in every run, below what the healthy endpoints can take, so the
	// figure is how much of it still reaches them.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t0, done := time.Now(), 0
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for due := int(time.Since(t0).Seconds() * rounds); done < due; done++ {
				for i, t := range tenants {
					if _, err := d.Publish(ctx, webhook.Event{Type: "post.created", TenantID: t, Data: map[string]int{"n": i}}); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}
	}()
	time.Sleep(2 * time.Second) // warm up: two request timeouts, so the allowances have adapted
	start, t0 := received.Load(), time.Now()
	time.Sleep(window)
	got := float64(received.Load()-start) / time.Since(t0).Seconds()
	close(stop)
	wg.Wait()
	return got
}

func createIn(b *testing.B, d *webhook.Dispatcher, tenant, url string) string {
	b.Helper()
	if _, _, err := d.CreateEndpoint(context.Background(), webhook.EndpointParams{TenantID: tenant, URL: url}); err != nil {
		b.Fatal(err)
	}
	return tenant
}
