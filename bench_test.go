package webhook_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
)

// BenchmarkEndToEnd measures the library's whole path per event (Publish,
// memstore, claim, sign, POST to a loopback server, Complete) against a
// baseline measured in the same run: the same number of signed-size POSTs
// from the same number of goroutines with a bare http.Client. The ratio is
// the library's overhead; compare it rather than the absolute figures,
// which depend on the machine.
//
//	go test -run '^$' -bench EndToEnd -benchtime 5000x .
func BenchmarkEndToEnd(b *testing.B) {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
	}))
	defer srv.Close()
	body := bytes.Repeat([]byte("x"), 300)
	const workers = 16

	b.Run("baseline-http-post", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
		jobs := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					res, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						continue
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			}()
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			jobs <- struct{}{}
		}
		close(jobs)
		wg.Wait()
	})

	b.Run("outhook-memstore", func(b *testing.B) {
		ctx := context.Background()
		d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
			AllowPrivateNetworks: true, Workers: workers, MaxInFlightPerEndpoint: workers,
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: srv.URL}); err != nil {
			b.Fatal(err)
		}
		if err := d.Start(ctx); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = d.Shutdown(ctx) }()
		start := received.Load()
		data := map[string]string{"pad": string(body[:250])}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := d.Publish(ctx, webhook.Event{Type: "post.created", Data: data}); err != nil {
				b.Fatal(err)
			}
		}
		for received.Load()-start < int64(b.N) {
			time.Sleep(100 * time.Microsecond)
		}
	})
}
