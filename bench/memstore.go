package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/memstore"
	"github.com/outhook/webhook/webhooktest"
)

// inFlight is how many deliveries the raw loop and memstore keep in
// flight.
const inFlight = 32

// benchMemstore: a tuned net/http POST loop against outhook on memstore,
// end to end (Publish, claim, send, complete), both with 32 in flight.
func benchMemstore(ctx context.Context, e *env) (figures, error) {
	f := figures{}
	raw, rawCPU, err := rawLoop(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("raw loop: %w", err)
	}
	f["raw/s"], f["raw_cpu_us"] = raw, rawCPU
	mem, memCPU, err := memstoreLive(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	f["memstore/s"], f["memstore_cpu_us"] = mem, memCPU
	return f, nil
}

// rawLoop POSTs signed bodies from inFlight goroutines, for the warm-up
// and then the window, and returns the receiver's rate over the window
// and the process CPU per request.
func rawLoop(ctx context.Context, e *env) (float64, float64, error) {
	c := tunedClient(inFlight)
	defer c.CloseIdleConnections()
	b := body("raw")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Value
	for g := 0; g < inFlight; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := post(ctx, c, e.rcv.url, "raw-"+strconv.Itoa(i), b); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	time.Sleep(e.p.warmup)
	n0, cpu0 := e.rcv.count(), cpuTime()
	rate := e.rcv.rate(e.p.window)
	cpu := cpuTime() - cpu0
	n := e.rcv.count() - n0
	close(stop)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return 0, 0, err
	}
	return rate, micros(cpu) / float64(n), nil
}

// memstoreLive publishes from 4 goroutines, keeping at most 4096 events
// published but not yet received (so the queue neither runs dry nor grows
// without bound), to a Dispatcher on memstore with inFlight attempts on the
// one endpoint; it returns the receiver's rate over the window and the
// process CPU per delivery (Publish included). The publishers wait for
// room on a channel of 4096 places, given back as the receiver counts
// deliveries (checked every millisecond by one goroutine): they used to
// poll the count every 100 µs each, which cost the process about 5 µs of
// CPU per delivery, counted against outhook.
func memstoreLive(ctx context.Context, e *env) (float64, float64, error) {
	d, err := webhook.NewDispatcher(memstore.New(), singleEndpointConfig(inFlight))
	if err != nil {
		return 0, 0, err
	}
	if err := createEndpoint(ctx, d, tenant, e.rcv.url); err != nil {
		return 0, 0, err
	}
	if err := d.Start(ctx); err != nil {
		return 0, 0, err
	}
	defer shutdown(d)
	const ahead = 4096
	room := make(chan struct{}, ahead)
	for range ahead {
		room <- struct{}{}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // gives a place back for each delivery received
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		seen := e.rcv.count()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			n := e.rcv.count()
			for ; seen < n; seen++ {
				select {
				case room <- struct{}{}:
				default: // full: deliveries sent again, or from before
				}
			}
		}
	}()
	var failed atomic.Value
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-room:
				}
				if _, err := d.Publish(ctx, event(fmt.Sprintf("m%d-%d", g, i))); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	time.Sleep(e.p.warmup)
	n0, cpu0 := e.rcv.count(), cpuTime()
	rate := e.rcv.rate(e.p.window)
	cpu := cpuTime() - cpu0
	n := e.rcv.count() - n0
	close(stop)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return 0, 0, err
	}
	return rate, micros(cpu) / float64(n), nil
}

// memstoreBurnDown is the SQLite burn-down on memstore: n events
// published before Start, then the time to deliver them all with 100
// attempts in flight.
func memstoreBurnDown(ctx context.Context, e *env, n int) (float64, error) {
	d, err := webhook.NewDispatcher(memstore.New(), singleEndpointConfig(100))
	if err != nil {
		return 0, err
	}
	if err := createEndpoint(ctx, d, tenant, e.rcv.url); err != nil {
		return 0, err
	}
	if _, _, err := loadEvents(ctx, d, "mb", n); err != nil {
		return 0, err
	}
	defer shutdown(d)
	rate, _, err := burnDown(ctx, e.rcv, func() error { return d.Start(ctx) }, n, e.p.timeout)
	return rate, err
}

// isolationMixes are the broken endpoints beside the 10 healthy ones, as
// in the root module's BenchmarkIsolation: one hanging (10 %), four
// hanging (30 %), and two hanging beside one of every other misbehaviour.
var isolationMixes = []struct {
	key string
	bad []string
}{
	{"hang10", []string{"hang"}},
	{"hang30", []string{"hang", "hang", "hang", "hang"}},
	{"misbehaving", []string{"hang", "hang", "slowloris", "endless", "reset", "garbage", "429"}},
}

// benchIsolation measures what broken endpoints cost the healthy ones, as
// the root module's BenchmarkIsolation does, through the harness: the
// healthy deliveries per second of 10 healthy endpoints alone, at a fixed
// offered load of 1000 events/s, and beside each mix of broken ones.
func benchIsolation(ctx context.Context, e *env) (figures, error) {
	f := figures{}
	base, err := isolationRun(ctx, e, nil)
	if err != nil {
		return nil, err
	}
	f["healthy/s"] = base
	for _, mix := range isolationMixes {
		got, err := isolationRun(ctx, e, mix.bad)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mix.key, err)
		}
		f[mix.key+"/s"] = got
	}
	return f, nil
}

// isolationRun publishes one event to each of 10 healthy endpoints and
// the bad ones (each in a tenant of its own), 100 rounds a second, and
// returns the healthy deliveries per second over the window after a
// two-second warm-up (two request timeouts: the allowances have adapted).
func isolationRun(ctx context.Context, e *env, bad []string) (float64, error) {
	const healthy, rounds = 10, 100
	d, err := webhook.NewDispatcher(memstore.New(), &webhook.Config{
		AllowPrivateNetworks: true,
		RequestTimeout:       time.Second,
		Lease:                5 * time.Second,
		DisableAfter:         -1, // keep the broken endpoints broken
		Retry:                webhook.FixedSchedule(50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond),
	})
	if err != nil {
		return 0, err
	}
	var tenants []string
	for i := 0; i < healthy; i++ {
		t := fmt.Sprintf("ok-%d", i)
		if err := createEndpoint(ctx, d, t, e.rcv.url); err != nil {
			return 0, err
		}
		tenants = append(tenants, t)
	}
	for i, kind := range bad {
		url, stop, err := webhooktest.StartHostile(webhooktest.Misbehavior(kind))
		if err != nil {
			return 0, err
		}
		defer stop()
		t := fmt.Sprintf("bad-%d-%s", i, kind)
		if err := createEndpoint(ctx, d, t, url); err != nil {
			return 0, err
		}
		tenants = append(tenants, t)
	}
	if err := d.Start(ctx); err != nil {
		return 0, err
	}
	defer shutdown(d)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Value
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
					if _, err := d.Publish(ctx, webhook.Event{Type: eventType, TenantID: t, Data: map[string]int{"n": i}}); err != nil {
						failed.Store(err)
						return
					}
				}
			}
		}
	}()
	time.Sleep(2 * time.Second)
	got := e.rcv.rate(e.p.isoWindow)
	close(stop)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return 0, err
	}
	return got, nil
}
