package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

const workers = 16

// handouts counts how often each delivery was handed out and completed by
// concurrent workers.
type handouts struct {
	mu        sync.Mutex
	claimed   map[string]int
	completed map[string]int
	errs      []error
}

func newHandouts() *handouts {
	return &handouts{claimed: map[string]int{}, completed: map[string]int{}}
}

func (h *handouts) record(m map[string]int, id string) {
	h.mu.Lock()
	m[id]++
	h.mu.Unlock()
}

func (h *handouts) fail(err error) {
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
}

// drain claims with p until Claim returns nothing, recording every claim
// and passing it to each with its running number in this worker.
func (h *handouts) drain(f *fixture, p webhook.ClaimParams, each func(c *webhook.Claim, k int)) {
	for k := 0; ; {
		cs, err := f.s.Claim(f.ctx, p)
		if err != nil {
			h.fail(err)
			return
		}
		if len(cs) == 0 {
			return
		}
		for _, c := range cs {
			h.record(h.claimed, c.Delivery.ID)
			each(c, k)
			k++
		}
	}
}

// complete completes c with outcome at now, recording the completion.
func (h *handouts) complete(f *fixture, c *webhook.Claim, outcome webhook.Outcome, now time.Time) {
	if _, _, err := f.s.Complete(f.ctx, completion(c, outcome, now)); err != nil {
		h.fail(err)
		return
	}
	h.record(h.completed, c.Delivery.ID)
}

// runWorkers runs work on workers goroutines, released together, and waits.
func runWorkers(work func(worker int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			work(w)
		}()
	}
	close(start)
	wg.Wait()
}

// enqueueMany stores n deliveries spread over eps, due at base, each event
// created a millisecond after the previous one.
func (f *fixture) enqueueMany(n int, eps []*webhook.Endpoint) []*webhook.Delivery {
	f.t.Helper()
	var all []*webhook.Delivery
	for i := 0; len(all) < n; i++ {
		_, ds := f.enqueueDue(at(time.Duration(i)*time.Millisecond), base, eps[i%len(eps)])
		all = append(all, ds...)
	}
	return all
}

func testConcurrency(t *testing.T, newStore newStoreFunc) {
	t.Run("concurrent claim and complete hands each delivery out once", func(t *testing.T) {
		f := setup(t, newStore)
		const n = 300
		eps := []*webhook.Endpoint{f.createEndpoint(), f.createEndpoint(), f.createEndpoint(), f.createEndpoint()}
		ds := f.enqueueMany(n, eps)
		now := at(time.Minute) // the leases outlive the test: none expires
		h := newHandouts()
		runWorkers(func(w int) {
			p := webhook.ClaimParams{Now: now, Lease: time.Hour, Limit: 1 + w%4}
			h.drain(f, p, func(c *webhook.Claim, _ int) {
				outcome := webhook.OutcomeSuccess
				if c.Delivery.ID[0]%5 == 0 {
					outcome = webhook.OutcomeFail
				}
				h.complete(f, c, outcome, now)
			})
		})
		require.Empty(t, h.errs)
		require.Len(t, h.claimed, n, "every delivery was claimed")
		for _, d := range ds {
			assert.Equal(t, 1, h.claimed[d.ID], "delivery %s handed out while its lease was live", d.ID)
			assert.Equal(t, 1, h.completed[d.ID], "delivery %s completed", d.ID)
			got := f.getDelivery(d.ID)
			assert.NotEqual(t, webhook.StatePending, got.State)
			assert.Equal(t, 1, got.Attempts)
			assert.Len(t, f.attempts(d.ID), 1)
		}
		assert.Empty(t, f.claim(at(time.Hour), 10))
	})

	t.Run("after a crash expired leases are handed out once more and stale tokens lose", func(t *testing.T) {
		f := setup(t, newStore)
		const n = 200
		eps := []*webhook.Endpoint{f.createEndpoint(), f.createEndpoint(), f.createEndpoint()}
		ds := f.enqueueMany(n, eps)
		h := newHandouts()
		var (
			mu      sync.Mutex
			crashed []*webhook.Claim
		)
		// First round: every other claim's worker "dies" without completing.
		runWorkers(func(w int) {
			h.drain(f, webhook.ClaimParams{Now: base, Lease: lease, Limit: 3}, func(c *webhook.Claim, k int) {
				if k%2 == 0 {
					mu.Lock()
					crashed = append(crashed, c)
					mu.Unlock()
					return
				}
				h.complete(f, c, webhook.OutcomeSuccess, base)
			})
		})
		require.Empty(t, h.errs)
		require.Len(t, h.claimed, n)
		require.NotEmpty(t, crashed)
		for id, k := range h.claimed {
			require.Equal(t, 1, k, "delivery %s handed out twice in the first round", id)
		}

		// Second round, after the leases expired: only the abandoned
		// deliveries come back, once each. Then their new holders complete
		// while the dead workers' late completions race with them and lose.
		later := at(2 * lease)
		second := newHandouts()
		var reclaimed []*webhook.Claim
		runWorkers(func(w int) {
			second.drain(f, webhook.ClaimParams{Now: later, Lease: time.Hour, Limit: 2}, func(c *webhook.Claim, _ int) {
				mu.Lock()
				reclaimed = append(reclaimed, c)
				mu.Unlock()
			})
		})
		require.Empty(t, second.errs)
		runWorkers(func(w int) {
			for i := w; i < len(reclaimed) || i < len(crashed); i += workers {
				if i < len(crashed) {
					_, _, err := f.s.Complete(f.ctx, completion(crashed[i], webhook.OutcomeFail, later))
					if !errors.Is(err, webhook.ErrLeaseLost) {
						second.fail(fmt.Errorf("stale completion of %s: want ErrLeaseLost, got %v", crashed[i].Delivery.ID, err))
					}
				}
				if i < len(reclaimed) {
					second.complete(f, reclaimed[i], webhook.OutcomeSuccess, later)
				}
			}
		})
		require.Empty(t, second.errs)
		require.Len(t, second.claimed, len(crashed))
		for _, c := range crashed {
			assert.Equal(t, 1, second.claimed[c.Delivery.ID], "abandoned delivery %s handed out once", c.Delivery.ID)
		}
		for _, d := range ds {
			assert.Equal(t, 1, h.completed[d.ID]+second.completed[d.ID], "delivery %s completed exactly once", d.ID)
			got := f.getDelivery(d.ID)
			assert.Equal(t, webhook.StateSucceeded, got.State)
			as := f.attempts(d.ID)
			require.Len(t, as, 1, "delivery %s: only the live lease's attempt is recorded", d.ID)
			assert.True(t, as[0].Success)
		}
		for _, ep := range eps {
			assert.Zero(t, f.getEndpoint(ep.ID).ConsecutiveFailures, "stale failures counted nothing")
		}
	})

	t.Run("concurrent enqueues of one event ID store it once", func(t *testing.T) {
		f := setup(t, newStore)
		ep := f.createEndpoint()
		ev := f.newEvent(base)
		var (
			mu       sync.Mutex
			ok, dups int
			others   []error
		)
		runWorkers(func(w int) {
			in := *ev
			err := f.s.Enqueue(f.ctx, &in, []*webhook.Delivery{newDelivery(ev, ep, base)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, webhook.ErrDuplicateEvent):
				dups++
			default:
				others = append(others, err)
			}
		})
		require.Empty(t, others)
		assert.Equal(t, 1, ok)
		assert.Equal(t, workers-1, dups)
		page, _, err := f.s.ListDeliveries(f.ctx, webhook.DeliveryFilter{EventID: ev.ID})
		require.NoError(t, err)
		assert.Len(t, page, 1)
	})
}
