package webhook

import (
	"context"
	"errors"
	"sync"
	"time"
)

// The completer records finished attempts in batches when the Store is a
// BatchCompleter. An attempt hands its Completion over and goes: its place
// among Config.Workers is free for the next claim as soon as the endpoint
// has answered, and what follows the recording (the log line, OnAttempt,
// OnEndpointDisabled) runs when its batch has been written. One flusher at
// a time calls CompleteBatch with everything handed over meanwhile, up to
// completerMaxBatch at once.
//
// It is group commit without a timer: the first completion after a quiet
// spell is flushed at once, alone; the completions that arrive while a
// batch is being written go together in the next one, so a slow commit
// makes the batches bigger rather than the queue longer. The queue is
// bounded: at most 4×Config.Workers completions wait to be recorded or for
// their hooks, and an attempt that finds it full waits, keeping its place
// among Workers, until there is room. Memory is therefore bounded, and a
// database (or a hook) that cannot keep up slows the claims rather than
// letting the queue grow.
//
// Until its completion is written the delivery stays leased (Config.Lease
// covers the request and the recording, bounded by the record timeout), so
// no other claim takes it meanwhile, and if the process dies first the
// delivery is sent again when the lease ends: at least once, as with one
// Complete per attempt. A batch is cut short by the latest record deadline
// of its completions (those whose deadline passed while they waited are
// left out) and by Shutdown's context; Shutdown waits for the queue to be
// written.
//
// A Store without BatchCompleter gets one Complete per attempt, from the
// attempt's goroutine, which keeps its place until the Complete returns.

// completerTries is how many times the completer tries a batch that fails.
const completerTries = 3

// completerMaxBatch is the most completions one CompleteBatch records.
const completerMaxBatch = 256

// completer is the queue of completions waiting for the next batch.
type completer struct {
	mu      sync.Mutex
	queue   []*pendingCompletion
	running bool          // a flusher goroutine is running
	room    chan struct{} // a token per completion handed over and not yet written
}

// pendingCompletion is one attempt's completion waiting to be recorded,
// and what the attempt does once it is (done): the attempt, its
// completion and what done needs, in one allocation per attempt (deliver
// makes it).
type pendingCompletion struct {
	d        *Dispatcher
	ctx      context.Context // the attempt's: its values, not its cancellation
	deadline time.Time       // when recording it is given up
	comp     Completion      // comp.Attempt is &attempt
	attempt  Attempt
	claim    *Claim
	detail   string // the raw transport error, for the log
	// held: the attempt keeps its place in the endpoint's allowance until
	// it is recorded (see deliver).
	held bool
}

// recordAsync hands p to the completer, which calls p.done with the
// result once its batch is written, or with an error if p.deadline passes
// or Shutdown gives up first; p.ctx gives its values to the recording, not
// its cancellation. It waits only while the queue is full. It reports
// false, having called nothing, if the Store has no BatchCompleter: the
// caller records p itself.
func (d *Dispatcher) recordAsync(p *pendingCompletion) bool {
	bc, ok := d.store.(BatchCompleter)
	if !ok {
		return false
	}
	c := &d.completer
	select {
	case c.room <- struct{}{}:
	case <-d.abortRec.Done():
		p.done(p.ctx, CompletionResult{Err: d.abortRec.Err()})
		return true
	}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if !c.running {
		c.running = true
		// The attempt calling recordAsync is one of d.wg's goroutines, so
		// the count is above zero and Shutdown still waits for this one.
		d.goRun(func() { d.flushLoop(bc) })
	}
	c.mu.Unlock()
	return true
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
		results := d.flush(bc, batch)
		// Ordered delivery: the next delivery of an Ordered endpoint is
		// claimable only once this one is recorded, which the wake-up the
		// attempt gave when it handed it over came too early for.
		for _, r := range results {
			if r.Endpoint != nil && r.Endpoint.Ordered {
				d.wake()
				break
			}
		}
		// The hooks run beside the next batch, not before it: a slow
		// OnAttempt delays no recording. The batch's places in the queue
		// are given back once its hooks have run, so a slow hook slows the
		// attempts (they wait for room) rather than letting hook
		// goroutines pile up.
		d.goRun(func() {
			for i, p := range batch {
				p.done(p.ctx, results[i])
				<-c.room
			}
		})
	}
}

// flush records one batch and returns each completion's result.
// Completions whose deadline passed before the batch began, or all of them
// if Shutdown gave up, are left out and get that error.
func (d *Dispatcher) flush(bc BatchCompleter, batch []*pendingCompletion) []CompletionResult {
	results := make([]CompletionResult, len(batch))
	live := make([]int, 0, len(batch))
	var deadline time.Time
	now := time.Now()
	for i, p := range batch {
		switch {
		case d.abortRec.Err() != nil:
			results[i].Err = d.abortRec.Err()
			continue
		case !now.Before(p.deadline):
			results[i].Err = context.DeadlineExceeded
			continue
		}
		// The batch runs until the latest deadline of its completions: a
		// completion recorded a little late is harmless (every write is
		// guarded by its lease token), while cutting the batch at the
		// earliest would fail all of it for one that waited long.
		if p.deadline.After(deadline) {
			deadline = p.deadline
		}
		live = append(live, i)
	}
	if len(live) == 0 {
		return results
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(batch[live[0]].ctx), deadline)
	stop := context.AfterFunc(d.abortRec, cancel)
	defer func() {
		stop()
		cancel()
	}()
	cs := make([]Completion, len(live))
	for j, i := range live {
		cs[j] = batch[i].comp
	}
	got, err := bc.CompleteBatch(ctx, cs)
	// A batch that failed wrote nothing (CompleteBatch is all or nothing):
	// a deadlock with another writer, a connection lost. Try it again
	// while its time lasts, rather than leave its deliveries leased, and
	// unsent, until their leases end. What a lost answer to a commit did
	// write comes back as ErrLeaseLost, which is harmless.
	for try := 1; err != nil && try < completerTries && ctx.Err() == nil; try++ {
		select {
		case <-time.After(time.Duration(try) * 10 * time.Millisecond):
		case <-ctx.Done():
		}
		if ctx.Err() == nil {
			got, err = bc.CompleteBatch(ctx, cs)
		}
	}
	for j, i := range live {
		switch {
		case err != nil:
			results[i].Err = err
		case j >= len(got):
			results[i].Err = errShortBatch
		default:
			results[i] = got[j]
		}
	}
	return results
}

// errShortBatch is a CompleteBatch that returned fewer results than
// completions.
var errShortBatch = errors.New("webhook: CompleteBatch returned fewer results than completions")
