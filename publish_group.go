package webhook

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// errBatchResults: a Store's EnqueueMatchingBatch returned a result count
// unlike its batch's; the callers then go alone.
var errBatchResults = errors.New("webhook: EnqueueMatchingBatch returned a result count unlike its batch's")

// publishGroupMax is the most Publish calls one statement takes.
const publishGroupMax = 128

// publishGroup gathers concurrent Publish calls on a MatchEnqueuer into
// one EnqueueMatchingBatch, so into one round trip and one commit (group
// commit, as the completer does for completions). A call made while fewer
// than publishGroupFlights statements of the group are in flight goes at
// once, alone; calls made while they all are wait and go together in the
// next batch. Each
// caller gets its own result. If a batch fails, each of its callers tries
// again alone, with its own context, so one bad event (or one caller's
// cancelled context) fails no other. PublishTx and PublishInTx write in
// the caller's transaction and never join a group.
type publishGroup struct {
	// unsupported is set once the Store said ErrNotSupported (SQLite,
	// older PostgreSQL): Publish then takes the ListEndpoints path
	// without asking again.
	unsupported atomic.Bool

	mu       sync.Mutex
	inFlight int          // statements of the group in flight
	queue    []*groupCall // calls waiting for the next statement
}

// publishGroupFlights is how many statements a group keeps in flight: a
// call goes at once while fewer are, and waits for the next batch
// otherwise. Two keep the database busy while the callers of a finished
// statement come back with their next events.
const publishGroupFlights = 2

// groupCall is one Publish waiting in a group.
type groupCall struct {
	ctx   context.Context
	ev    *StoredEvent
	now   time.Time
	taken bool          // in a batch already (under publishGroup.mu)
	done  chan struct{} // closed when res or alone is set
	res   MatchResult
	alone bool // the batch failed: call EnqueueMatching alone
}

// groupedMatch returns the matchFunc of Publish on m: EnqueueMatching
// through the dispatcher's group.
func (d *Dispatcher) groupedMatch(m MatchEnqueuer) matchFunc {
	return func(ctx context.Context, ev *StoredEvent, now time.Time) (int, error) {
		n, err := d.pubGroup.enqueue(ctx, m, ev, now)
		if errors.Is(err, ErrNotSupported) {
			d.pubGroup.unsupported.Store(true)
		}
		return n, err
	}
}

func (g *publishGroup) enqueue(ctx context.Context, m MatchEnqueuer, ev *StoredEvent, now time.Time) (int, error) {
	g.mu.Lock()
	if g.inFlight < publishGroupFlights {
		g.inFlight++
		g.mu.Unlock()
		defer g.next(m) // even if the Store panics, the place is handed on
		return m.EnqueueMatching(ctx, ev, now)
	}
	c := &groupCall{ctx: ctx, ev: ev, now: now, done: make(chan struct{})}
	g.queue = append(g.queue, c)
	g.mu.Unlock()
	select {
	case <-c.done:
	case <-ctx.Done():
		g.mu.Lock()
		if !c.taken {
			g.remove(c)
			g.mu.Unlock()
			return 0, ctx.Err()
		}
		g.mu.Unlock()
		<-c.done // in a statement already: its outcome is this call's
	}
	switch {
	case c.alone:
		return m.EnqueueMatching(ctx, ev, now)
	case c.res.Duplicate:
		return 0, ErrDuplicateEvent
	}
	return c.res.Deliveries, nil
}

// remove drops c from the queue; g.mu is held.
func (g *publishGroup) remove(c *groupCall) {
	for i, q := range g.queue {
		if q == c {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			g.queue[len(g.queue):cap(g.queue)][0] = nil
			return
		}
	}
}

// next follows a statement of the group: it sends the calls queued
// meanwhile, if any, as one batch from a goroutine of its own (in the
// finished statement's place), and then the calls queued during that one;
// with none queued, the statement's place is free.
func (g *publishGroup) next(m MatchEnqueuer) {
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.inFlight--
		g.mu.Unlock()
		return
	}
	// Up to publishGroupMax calls, each event ID once: a second call with
	// an ID in the batch waits for the next, where it finds the event.
	var batch, rest []*groupCall
	ids := make(map[string]bool, len(g.queue))
	for _, c := range g.queue {
		if len(batch) == publishGroupMax || ids[c.ev.ID] {
			rest = append(rest, c)
			continue
		}
		ids[c.ev.ID] = true
		c.taken = true
		batch = append(batch, c)
	}
	g.queue = rest
	g.mu.Unlock()
	go func() {
		g.send(m, batch)
		g.next(m)
	}()
}

// send writes batch with one EnqueueMatchingBatch and hands each call its
// result. The statement's context ends when every caller's has.
func (g *publishGroup) send(m MatchEnqueuer, batch []*groupCall) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	defer cancel()
	var live atomic.Int64
	live.Store(int64(len(batch)))
	evs := make([]*StoredEvent, len(batch))
	now := batch[0].now
	for i, c := range batch {
		evs[i] = c.ev
		if c.now.After(now) {
			now = c.now
		}
		stop := context.AfterFunc(c.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	res, err := m.EnqueueMatchingBatch(ctx, evs, now)
	if err == nil && len(res) != len(batch) {
		err = errBatchResults
	}
	for i, c := range batch {
		if err != nil {
			c.alone = true
		} else {
			c.res = res[i]
		}
		close(c.done)
	}
}
