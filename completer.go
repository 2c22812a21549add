package webhook

import (
	"context"
	"errors"
	"sync"
	"time"
)

// The completer records finished attempts in batches when the Store is a
// BatchCompleter: an attempt hands its Completion over and waits for its
// result, and one flusher at a time calls CompleteBatch with everything
// handed over meanwhile, up to completerMaxBatch at once.
//
// It is group commit without a timer: the first completion after a quiet
// spell is flushed at once, alone; the completions that finish while a
// batch is being written go together in the next one. The delay an attempt
// waits is therefore bounded by the flush in progress when it arrives
// (plus, under a backlog of more than completerMaxBatch, the flushes ahead
// of it), and never by an idle timer, and a slow commit makes the batches
// bigger rather than the queue longer. Each waiting attempt keeps its place
// among Config.Workers, so the scheduler's accounting and the lease
// (Config.Lease covers the request and the recording, bounded by the
// record timeout) hold as they did with one Complete per attempt; a batch is
// cut short by the earliest record deadline of its completions and by
// Shutdown's context, as one Complete was.
//
// A Store without BatchCompleter gets one Complete per attempt, from the
// attempt's goroutine, as before.

// completerMaxBatch is the most completions one CompleteBatch records.
const completerMaxBatch = 64

// completer is the queue of completions waiting for the next batch.
type completer struct {
	mu      sync.Mutex
	queue   []*pendingCompletion
	running bool // a flusher goroutine is running
}

// pendingCompletion is one attempt's completion waiting to be recorded.
type pendingCompletion struct {
	ctx  context.Context // the attempt's record context
	comp Completion
	done chan CompletionResult // capacity 1: the flusher never blocks
}

// record records comp, in a batch when the Store can, and returns what
// Complete would. It returns ctx.Err() if ctx ends first.
func (d *Dispatcher) record(ctx context.Context, comp Completion) (*Endpoint, bool, error) {
	bc, ok := d.store.(BatchCompleter)
	if !ok {
		return d.store.Complete(ctx, comp)
	}
	p := &pendingCompletion{ctx: ctx, comp: comp, done: make(chan CompletionResult, 1)}
	c := &d.completer
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if !c.running {
		c.running = true
		// The attempt calling record is one of d.wg's goroutines, so the
		// count is above zero and Shutdown still waits for this one.
		d.goRun(func() { d.flushLoop(bc) })
	}
	c.mu.Unlock()
	select {
	case r := <-p.done:
		return r.Endpoint, r.Disabled, r.Err
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// flushLoop writes batches until the queue is empty.
func (d *Dispatcher) flushLoop(bc BatchCompleter) {
	c := &d.completer
	for {
		c.mu.Lock()
		n := min(len(c.queue), completerMaxBatch)
		if n == 0 {
			c.running = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		batch := make([]*pendingCompletion, n)
		copy(batch, c.queue)
		c.queue = append(c.queue[:0], c.queue[n:]...)
		c.mu.Unlock()
		d.flush(bc, batch)
	}
}

// flush records one batch and hands each attempt its result. Completions
// whose attempt stopped waiting (its record context ended) are left out.
func (d *Dispatcher) flush(bc BatchCompleter, batch []*pendingCompletion) {
	live := batch[:0]
	var deadline time.Time
	for _, p := range batch {
		if p.ctx.Err() != nil {
			continue
		}
		if dl, ok := p.ctx.Deadline(); ok && (deadline.IsZero() || dl.Before(deadline)) {
			deadline = dl
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithoutCancel(live[0].ctx), context.CancelFunc(nil)
	if deadline.IsZero() {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithDeadline(ctx, deadline)
	}
	stop := context.AfterFunc(d.abortRec, cancel)
	defer func() {
		stop()
		cancel()
	}()
	cs := make([]Completion, len(live))
	for i, p := range live {
		cs[i] = p.comp
	}
	results, err := bc.CompleteBatch(ctx, cs)
	for i, p := range live {
		if err != nil || i >= len(results) {
			if err == nil {
				err = errShortBatch
			}
			p.done <- CompletionResult{Err: err}
			continue
		}
		p.done <- results[i]
	}
}

// errShortBatch is a CompleteBatch that returned fewer results than
// completions.
var errShortBatch = errors.New("webhook: CompleteBatch returned fewer results than completions")
