package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Dispatcher publishes events, manages endpoints and runs the workers that
// deliver. Create one with NewDispatcher, call Start once, and Shutdown
// before the process exits. Its methods are safe for concurrent use.
//
// Publish and the endpoint methods work before Start and after Shutdown:
// they only talk to the Store. Deliveries are sent only while started.
type Dispatcher struct {
	store Store
	cfg   Config
	rules endpointRules
	log   *slog.Logger

	wakeCh chan struct{} // capacity 1: a pending wake-up

	mu    sync.Mutex
	state int              // stateNew, stateRunning, stateStopped
	busy  int              // attempts in flight
	flows map[string]*flow // per endpoint: in flight and allowance (scheduler.go)
	ready []readyClaim     // claimed ahead, waiting for a place (scheduler.go)
	// reserved counts the ready claims a SharedRateStore handed out with
	// a token due later (readyClaim.reserved).
	reserved int
	// stale holds the claims takeReadyLocked dropped as stale, until the
	// caller gives their leases back (release.go).
	stale  []*Claim
	stop   chan struct{}      // closed by Shutdown: stop claiming
	done   chan struct{}      // closed when every goroutine has returned
	stopBg context.CancelFunc // ends the listener and maintenance at Shutdown
	cancel context.CancelFunc // aborts in-flight requests
	wg     sync.WaitGroup     // every goroutine Start launched

	// claiming says a Claim is on its way back from the Store; droppedNow
	// holds the endpoints dropReady dropped meanwhile: that Claim may have
	// read them before the change, so claimBatch gives their claims back
	// too. It is empty whenever no Claim is on its way.
	claiming   bool
	droppedNow map[string]bool

	completer completer // batches completions for a BatchCompleter (completer.go)

	// givesBodies: Config.Envelope is DefaultEnvelope, whose every body is
	// a slice of its own, which Publish hands over to the Store to keep
	// (internal/owned) rather than to copy.
	givesBodies bool

	// abortRec is cancelled when Shutdown ends (its context expired, or
	// everything returned): it aborts attempts still being recorded.
	abortRec       context.Context
	cancelAbortRec context.CancelFunc
}

const (
	stateNew = iota
	stateRunning
	stateStopped
)

// NewDispatcher returns a Dispatcher on store. A nil cfg means every
// default. It reports configuration mistakes and says how to fix them.
func NewDispatcher(store Store, cfg *Config) (*Dispatcher, error) {
	if store == nil {
		return nil, errors.New("webhook: NewDispatcher: store is nil; use memstore.New() or sqlstore")
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cat, err := newCatalogue(c.EventTypes)
	if err != nil {
		return nil, err
	}
	rules := endpointRules{catalogue: cat, allowPrivate: c.AllowPrivateNetworks, httpsOnly: c.HTTPSOnly}
	if hl, ok := c.Signer.(HeaderLister); ok {
		rules.signerHeads = make(map[string]bool)
		for _, h := range hl.SignatureHeaders() {
			rules.signerHeads[http.CanonicalHeaderKey(h)] = true
		}
	}
	d := &Dispatcher{
		store:  store,
		cfg:    c,
		rules:  rules,
		log:    c.Logger,
		wakeCh: make(chan struct{}, 1),
		flows:  make(map[string]*flow),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		cancel: func() {}, // replaced by Start

		givesBodies: cfg == nil || cfg.Envelope == nil,
	}
	d.completer.room = make(chan struct{}, 4*c.Workers)
	d.abortRec, d.cancelAbortRec = context.WithCancel(context.Background())
	return d, nil
}

// Start launches the workers and returns at once. ctx carries values to
// the workers; cancelling it stops them for good, aborting in-flight
// requests as an expired Shutdown does, though an answer already received
// is still recorded (call Shutdown still, to wait for them). Start may be
// called once; a Dispatcher is not restarted.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state != stateNew {
		return fmt.Errorf("%w: Start may be called once", ErrStopped)
	}
	d.state = stateRunning
	ctx, d.cancel = context.WithCancel(ctx)
	bg, stopBg := context.WithCancel(ctx)
	d.stopBg = stopBg

	d.goRun(func() { d.claimLoop(ctx) })
	if n, ok := d.store.(Notifier); ok {
		d.goRun(func() { d.listen(bg, n) })
	}
	if m, ok := d.store.(Maintainer); ok {
		d.goRun(func() { d.maintain(bg, m) })
	}
	go func() {
		d.wg.Wait()
		d.releaseLeft(ctx) // what was claimed ahead but could not run
		if c, ok := d.cfg.Client.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections() // keep-alive goroutines must not outlive Shutdown
		}
		close(d.done)
	}()
	return nil
}

func (d *Dispatcher) goRun(f func()) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
}

// Shutdown stops claiming new deliveries and waits for in-flight attempts
// to finish and be recorded, and for the deliveries already claimed ahead
// for the next free worker (at most Workers) to be sent and recorded. When it returns nil, no goroutine started by
// the Dispatcher remains, and idle keep-alive connections of a Client with
// CloseIdleConnections (an *http.Client) are closed.
//
// Deliveries claimed ahead that may not start yet (their endpoint's rate
// limit has no token, a Retry-After pause lasts, or their Claim.NotBefore
// is still to come) are not waited for: once the attempts have ended,
// Shutdown gives their leases back to a Store that is a Releaser, so
// another Dispatcher (or this application after a restart) sends them at
// their due time; with other Stores they come up again when their leases
// end (Config.Lease).
//
// Like http.Server.Shutdown, it returns when ctx ends, whatever is still
// running: it aborts the in-flight requests and the recording of attempts
// still in progress, and returns ctx.Err() at once. Those attempts are not
// recorded; their deliveries are sent again when their leases expire
// (delivery is at least once), as are the claims not yet given back. The
// workers return shortly afterwards and the idle connections are closed
// when the last one has. A worker blocked
// in OnAttempt, OnEndpointDisabled or a Client that ignores its request's
// context runs on until that returns, after Shutdown, and a hook may still
// be called for an attempt whose recording finished as ctx ended.
//
// Every call, also a second or concurrent one, waits the same way: until
// every goroutine has returned, or its own ctx ends.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	prev := d.state
	d.state = stateStopped
	switch prev {
	case stateNew: // never started: nothing runs, nothing to wait for
		close(d.done)
		d.mu.Unlock()
		return nil
	case stateRunning:
		close(d.stop)
		d.stopBg()
	}
	d.mu.Unlock()
	select {
	case <-d.done:
		d.cancel()
		d.cancelAbortRec()
		return nil
	case <-ctx.Done():
		d.cancel()         // abort in-flight requests
		d.cancelAbortRec() // and recordings: at least once, the lease brings them back
		return ctx.Err()
	}
}

// recordContext is the context for recording an attempt: ctx's values but
// not its cancellation (an answer is recorded even as Shutdown begins),
// bounded by Config.recordTimeout and cancelled when Shutdown's ctx ends.
func (d *Dispatcher) recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.recordTimeout())
	stop := context.AfterFunc(d.abortRec, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// stopping reports whether Shutdown has begun.
func (d *Dispatcher) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// wake tells the claim loop that deliveries may be due. It never blocks.
func (d *Dispatcher) wake() {
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// listen relays a Notifier's wake-ups, restarting it after errors.
func (d *Dispatcher) listen(ctx context.Context, n Notifier) {
	for {
		err := n.Listen(ctx, d.wake)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d.log.Warn("webhook: store listener stopped; restarting", "err", err)
		}
		if !d.sleep(ctx, d.cfg.PollInterval) {
			return
		}
	}
}

// maintain calls a Maintainer every MaintenanceInterval.
func (d *Dispatcher) maintain(ctx context.Context, m Maintainer) {
	for d.sleep(ctx, d.cfg.MaintenanceInterval) {
		if err := m.Maintain(ctx, d.cfg.Clock()); err != nil && ctx.Err() == nil {
			d.log.Warn("webhook: store maintenance failed", "err", err)
		}
	}
}

// sleep waits for dur and reports false if the dispatcher stops first.
func (d *Dispatcher) sleep(ctx context.Context, dur time.Duration) bool {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-d.stop:
		return false
	}
}
