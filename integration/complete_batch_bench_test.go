package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// BenchmarkComplete measures recording finished attempts of one endpoint,
// one op = one successful completion of a claimed delivery (enqueued and
// claimed before the timer): "single" is 16 goroutines calling Complete, as
// the dispatcher did with one Complete per attempt; "batch" is one goroutine
// calling CompleteBatch with 64 completions at a time, as the completer
// does under load.
//
//	scripts/with-postgres.sh sh -c 'cd integration && go test -run "^$" -bench Complete -benchtime 2000x -count 5 .'
func BenchmarkComplete(b *testing.B) {
	stores := map[string]func(b *testing.B) *sqlstore.Store{
		"sqlite": func(b *testing.B) *sqlstore.Store {
			db, _ := openSQLite(b, "sqlite")
			return newStore(b, db, sqlstore.SQLite, nil)
		},
		"postgres": func(b *testing.B) *sqlstore.Store {
			pgURL(b)
			db, _ := openPG(b)
			return newStore(b, db, sqlstore.Postgres, nil)
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"single", "batch"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				s, ep := benchEndpoint(b, stores[name](b))
				comps := claimedCompletions(b, s, ep, b.N)
				ctx := context.Background()
				b.ResetTimer()
				start := time.Now()
				cpu := cpuTime()
				if mode == "single" {
					ch := make(chan webhook.Completion)
					var wg sync.WaitGroup
					for range 16 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for c := range ch {
								if _, _, err := s.Complete(ctx, c); err != nil {
									b.Error(err)
								}
							}
						}()
					}
					for _, c := range comps {
						ch <- c
					}
					close(ch)
					wg.Wait()
				} else {
					for len(comps) > 0 {
						n := min(len(comps), 64)
						res, err := s.CompleteBatch(ctx, comps[:n])
						if err != nil {
							b.Fatal(err)
						}
						for _, r := range res {
							if r.Err != nil {
								b.Fatal(r.Err)
							}
						}
						comps = comps[n:]
					}
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "client-cpu-ns/op")
			})
		}
	}
}

// claimedCompletions enqueues n deliveries to ep, claims them all and
// returns a successful completion of each.
func claimedCompletions(b *testing.B, s *sqlstore.Store, ep *webhook.Endpoint, n int) []webhook.Completion {
	ctx := context.Background()
	for i := range n {
		id := fmt.Sprintf("evt-%d", i)
		ev := &webhook.StoredEvent{ID: id, Type: "post.created", TenantID: "t", CreatedAt: t0, Body: benchBody}
		d := &webhook.Delivery{ID: "d-" + id, EventID: id, EventType: ev.Type, TenantID: "t", EndpointID: ep.ID,
			State: webhook.StatePending, NextAttemptAt: t0, CreatedAt: t0, UpdatedAt: t0}
		if err := s.Enqueue(ctx, ev, []*webhook.Delivery{d}); err != nil {
			b.Fatal(err)
		}
	}
	var out []webhook.Completion
	for len(out) < n {
		cs, err := s.Claim(ctx, webhook.ClaimParams{Now: t0, Lease: time.Hour, Limit: 64})
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) == 0 {
			b.Fatalf("claimed %d of %d", len(out), n)
		}
		for _, c := range cs {
			now := t0.Add(time.Duration(len(out)) * time.Millisecond)
			out = append(out, webhook.Completion{DeliveryID: c.Delivery.ID, Token: c.Token, Outcome: webhook.OutcomeSuccess, Now: now,
				Attempt: &webhook.Attempt{StartedAt: now, Duration: time.Millisecond, StatusCode: 200, ResponseBody: "ok", Success: true}})
		}
	}
	return out
}

// unbatched hides CompleteBatch (and every other optional ability) of the
// store it holds: the dispatcher then calls Complete per attempt.
type unbatched struct{ webhook.Store }

// BenchmarkBurnDownCompleter is the dispatcher end to end: one op = one
// pre-published event delivered to one loopback endpoint answering 204
// (Workers 64, MaxInFlightPerEndpoint 64), the completer batching
// ("batch") or one Complete per attempt ("single", the Store's
// CompleteBatch hidden). Publishing is outside the timer.
//
//	scripts/with-postgres.sh sh -c 'cd integration && go test -run "^$" -bench BurnDownCompleter -benchtime 2000x -count 5 .'
func BenchmarkBurnDownCompleter(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	stores := map[string]func(b *testing.B) *sqlstore.Store{
		"sqlite": func(b *testing.B) *sqlstore.Store {
			db, _ := openSQLite(b, "sqlite")
			return newStore(b, db, sqlstore.SQLite, nil)
		},
		"postgres": func(b *testing.B) *sqlstore.Store {
			pgURL(b)
			db, _ := openPG(b)
			return newStore(b, db, sqlstore.Postgres, nil)
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"single", "batch"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				var store webhook.Store = stores[name](b)
				if mode == "single" {
					store = unbatched{store}
				}
				var done atomic.Int64
				all := make(chan struct{})
				n := int64(b.N)
				d, err := webhook.NewDispatcher(store, &webhook.Config{
					AllowPrivateNetworks: true, Workers: 64, MaxInFlightPerEndpoint: 64,
					OnAttempt: func(r webhook.AttemptResult) {
						if r.Outcome == webhook.OutcomeSuccess && done.Add(1) == n {
							close(all)
						}
					},
				})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if _, _, err := d.CreateEndpoint(ctx, webhook.EndpointParams{URL: srv.URL}); err != nil {
					b.Fatal(err)
				}
				for range b.N {
					if _, err := d.Publish(ctx, webhook.Event{Type: "post.created", Data: json.RawMessage(benchBody)}); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				start := time.Now()
				cpu := cpuTime()
				if err := d.Start(ctx); err != nil {
					b.Fatal(err)
				}
				select {
				case <-all:
				case <-time.After(5 * time.Minute):
					b.Fatalf("delivered %d of %d", done.Load(), n)
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "client-cpu-ns/op")
				b.StopTimer()
				sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_ = d.Shutdown(sctx)
			})
		}
	}
}
