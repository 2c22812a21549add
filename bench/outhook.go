package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	webhook "github.com/outhook/webhook"
)

// singleEndpointConfig is outhook's configuration for the measurements
// with one endpoint: defaults, except loopback allowed and as many
// attempts in flight, all on the one endpoint, as the baseline has
// workers (River's 100, the raw loop's 32).
func singleEndpointConfig(inFlight int) *webhook.Config {
	return &webhook.Config{
		AllowPrivateNetworks:   true,
		Workers:                inFlight,
		MaxInFlightPerEndpoint: inFlight,
	}
}

// publishManyer is the batch form of Publish the engine may grow
// (issue 8); the harness uses it when the Dispatcher has it.
type publishManyer interface {
	PublishMany(ctx context.Context, events []webhook.Event) ([]webhook.Event, error)
}

// loadEvents publishes n events (IDs prefix-0 ...) with d, not started:
// in batches of 1000 with PublishMany when the Dispatcher has it,
// otherwise with Publish from 8 goroutines. It returns how it loaded and
// the events per second.
func loadEvents(ctx context.Context, d *webhook.Dispatcher, prefix string, n int) (string, float64, error) {
	t0 := time.Now()
	if pm, ok := any(d).(publishManyer); ok {
		for i := 0; i < n; i += 1000 {
			batch := make([]webhook.Event, 0, 1000)
			for j := i; j < min(n, i+1000); j++ {
				batch = append(batch, event(fmt.Sprintf("%s-%d", prefix, j)))
			}
			if _, err := pm.PublishMany(ctx, batch); err != nil {
				return "", 0, err
			}
		}
		return "PublishMany, 1000 a call", float64(n) / time.Since(t0).Seconds(), nil
	}
	const publishers = 8
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for g := 0; g < publishers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, err := d.Publish(ctx, event(fmt.Sprintf("%s-%d", prefix, i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return "", 0, err
	}
	return "Publish from 8 goroutines", float64(n) / time.Since(t0).Seconds(), nil
}

// burnDown starts d with n deliveries due and waits for the receiver to
// have them all; it returns deliveries per second and the process CPU
// time per delivery.
func burnDown(ctx context.Context, rcv *receiver, start func() error, n int, timeout time.Duration) (perSec, cpuPer float64, err error) {
	base := rcv.count()
	cpu0, t0 := cpuTime(), time.Now()
	if err := start(); err != nil {
		return 0, 0, err
	}
	end, err := rcv.waitFor(ctx, base+int64(n), timeout)
	if err != nil {
		return 0, 0, err
	}
	cpu := cpuTime() - cpu0
	return float64(n) / end.Sub(t0).Seconds(), micros(cpu) / float64(n), nil
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
