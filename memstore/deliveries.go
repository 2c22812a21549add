package memstore

import (
	"container/heap"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/internal/owned"
	"github.com/outhook/webhook/internal/uid"
)

// Enqueue stores the event (with a private copy of its body) and its
// deliveries in one step, or returns webhook.ErrDuplicateEvent and stores
// nothing if the event ID exists.
//
// A delivery for an endpoint that is disabled, or that does not exist, is
// stored already failed with webhook.ReasonEndpointDisabled: Claim would end
// it so anyway, and this way it never waits in the queue; its retention
// counts from the UpdatedAt it was given. An empty State is stored as
// pending, as sqlstore does. A delivery ID that is empty, repeated or
// already stored is rejected with webhook.ErrInvalid.
//
// The event ID stays taken until Maintain prunes the event (see the
// package doc), even if it has no deliveries.
func (s *Store) Enqueue(ctx context.Context, ev *webhook.StoredEvent, deliveries []*webhook.Delivery) error {
	if ev == nil || ev.ID == "" {
		return invalid("event without an ID")
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.events[ev.ID]; ok {
		return fmt.Errorf("memstore: event %q: %w", ev.ID, webhook.ErrDuplicateEvent)
	}
	seen := make(map[string]bool, len(deliveries))
	for _, d := range deliveries {
		if d == nil || d.ID == "" {
			return invalid("delivery without an ID")
		}
		if _, ok := s.deliveries[d.ID]; ok || seen[d.ID] {
			return invalid("delivery %q already exists", d.ID)
		}
		seen[d.ID] = true
	}
	s.insertLocked(ev, owned.Given(ctx, ev.Body), deliveries)
	return nil
}

// insertLocked stores ev and its deliveries, checked already; s.mu is
// held. given: see insertEachLocked.
func (s *Store) insertLocked(ev *webhook.StoredEvent, given bool, deliveries []*webhook.Delivery) {
	s.insertEachLocked(ev, given, len(deliveries), func(i int, d *webhook.Delivery) { *d = *deliveries[i] })
}

// insertEachLocked stores ev and n deliveries, checked already, each
// written in place by fill(i, d), so that none is made only to be copied;
// s.mu is held. The Store keeps a copy of ev.Body, or, if given (the
// Dispatcher's Publish handed it over: internal/owned), ev.Body itself.
func (s *Store) insertEachLocked(ev *webhook.StoredEvent, given bool, n int, fill func(i int, d *webhook.Delivery)) {
	er, first := newEventRec(n)
	er.ev = *ev
	er.seq = s.nextSeq()
	if !given {
		er.ev.Body = slices.Clone(ev.Body)
	}
	er.ev.Metadata = maps.Clone(ev.Metadata)
	s.events[ev.ID] = er
	if n == 0 {
		heap.Push(&s.empty, er)
	}
	for i := 0; i < n; i++ {
		dr := first
		if i > 0 || dr == nil {
			dr = &deliveryRec{}
		}
		fill(i, &dr.d)
		dr.seq, dr.ev, dr.index = s.nextSeq(), er, -1
		if dr.d.State == "" {
			dr.d.State = webhook.StatePending
		}
		s.deliveries[dr.d.ID] = dr
		er.deliveries = append(er.deliveries, dr)
		ep := s.endpoints[dr.d.EndpointID]
		if ep == nil || ep.ep.Disabled {
			dr.d.State = webhook.StateFailed
			dr.d.LastError = webhook.ReasonEndpointDisabled
		}
		if ep != nil {
			dr.ep = ep
			ep.link(dr)
		}
		if dr.d.State == webhook.StatePending {
			ep.pending.push(dr)
			s.fixReady(ep)
		} else {
			s.ended.push(dr)
		}
	}
}

// newEventRec returns an empty eventRec with room for n deliveries. For
// one delivery, the usual fan-out, the event, the record of its delivery
// (first) and the array of its deliveries are one allocation; otherwise
// first is nil.
func newEventRec(n int) (er *eventRec, first *deliveryRec) {
	if n != 1 {
		return &eventRec{deliveries: make([]*deliveryRec, 0, n)}, nil
	}
	b := &struct {
		er  eventRec
		dr  deliveryRec
		one [1]*deliveryRec
	}{}
	b.er.deliveries = b.one[:0:1]
	return &b.er, &b.dr
}

// Claim leases up to p.Limit due deliveries, oldest due first, honouring
// p.MaxPerEndpoint and, for rate-limited endpoints, their shared buckets
// (see SharesRateLimits). Each lease has a random token. Claim.Body is the event's
// stored body, shared by all its claims; Claim.Endpoint and Claim.Secrets
// are copies shared by the claims of one endpoint in one call: do not
// modify them. p.Lease must be positive.
func (s *Store) Claim(ctx context.Context, p webhook.ClaimParams) ([]*webhook.Claim, error) {
	if p.Lease <= 0 {
		return nil, invalid("ClaimParams.Lease must be positive, not %v", p.Lease)
	}
	if p.Limit <= 0 {
		return nil, nil
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	s.expireLeases(p.Now)

	var (
		out    []*webhook.Claim
		capped []*endpointRec
	)
	s.claimCalls++
	for len(out) < p.Limit && len(s.ready) > 0 {
		er := s.ready[0]
		dr := er.pending.peek()
		if dr.d.NextAttemptAt.After(p.Now) {
			break
		}
		if er.ep.Disabled {
			// Not reached while DisableEndpoint and Enqueue end such
			// deliveries themselves; kept so the contract holds regardless.
			s.failPending(er, p.Now)
			continue
		}
		if er.ep.Inactive {
			// Not reached either: fixReady keeps inactive endpoints out.
			heap.Pop(&s.ready)
			continue
		}
		st := er.claimState(s.claimCalls)
		if p.MaxPerEndpoint > 0 && p.InFlight[er.ep.ID]+st.taken >= p.MaxPerEndpoint {
			heap.Pop(&s.ready)
			capped = append(capped, er)
			continue
		}
		var notBefore time.Time
		if l := p.RateLimitOf(&er.ep); l.PerSecond > 0 {
			due, after, ok := webhook.TakeRateToken(l, er.rateTAT, p.Now, p.RateAhead)
			if !ok { // no token due: wait as if capped
				heap.Pop(&s.ready)
				capped = append(capped, er)
				continue
			}
			er.rateTAT = after
			if due.After(p.Now) {
				notBefore = due
			}
		}
		er.pending.pop()
		st.taken++
		dr.token = uid.New()
		dr.leaseUntil = p.Now.Add(p.Lease)
		s.leased.push(dr)
		er.leased[dr.d.ID] = dr
		s.fixReady(er) // after leased changed: an Ordered endpoint leaves

		c := newClaim(&dr.d)
		c.Endpoint, c.Secrets = s.share(st, er, p.Now)
		body := dr.ev.ev.Body
		c.Body = body[:len(body):len(body)] // an append cannot write into the shared array
		c.Token = dr.token
		c.Metadata = dr.ev.ev.Metadata // never modified: shared like Body
		c.NotBefore = notBefore
		out = append(out, c)
	}
	for _, er := range capped {
		heap.Push(&s.ready, er)
	}
	return out, nil
}

// expireLeases moves the deliveries whose lease expired by now back to
// their endpoints' due heaps. They keep their token until claimed again, so
// a late Complete from the worker that held the lease still counts when
// nobody else has claimed the delivery meanwhile.
func (s *Store) expireLeases(now time.Time) {
	for {
		dr := s.leased.peek()
		if dr == nil || dr.leaseUntil.After(now) {
			return
		}
		s.leased.pop()
		delete(dr.ep.leased, dr.d.ID) // due again: one place at a time
		dr.ep.pending.push(dr)
		s.fixReady(dr.ep)
	}
}

// Complete records the attempt of a claimed delivery and applies its
// outcome and the endpoint's counters in one step, as webhook.Store
// documents. The lease holds as long as the delivery is pending and c.Token
// is its latest token, even past its expiry if nobody claimed it again;
// otherwise, and when the delivery was deleted with its endpoint, Complete
// records nothing and returns webhook.ErrLeaseLost.
//
// A Retry or Fail sets the delivery's LastError and the endpoint's
// LastFailureReason to c.Attempt.Error. An endpoint disabled by count gets
// the reason "N consecutive failed deliveries; last: <c.Attempt.Error>".
func (s *Store) Complete(ctx context.Context, c webhook.Completion) (*webhook.Endpoint, bool, error) {
	if err := checkCompletion(c); err != nil {
		return nil, false, err
	}
	if err := s.lock(ctx); err != nil {
		return nil, false, err
	}
	defer s.mu.Unlock()
	return s.complete(c)
}

// checkCompletion rejects a completion Complete cannot apply.
func checkCompletion(c webhook.Completion) error {
	if c.Attempt == nil {
		return invalid("Completion.Attempt is nil")
	}
	switch c.Outcome {
	case webhook.OutcomeSuccess, webhook.OutcomeRetry, webhook.OutcomeFail:
	default:
		return invalid("Completion.Outcome %d is not one of the Outcome constants", c.Outcome)
	}
	return nil
}

// complete is Complete under s.mu.
func (s *Store) complete(c webhook.Completion) (*webhook.Endpoint, bool, error) {
	dr, ok := s.deliveries[c.DeliveryID]
	if !ok {
		return nil, false, fmt.Errorf("memstore: delivery %q is gone: %w (%w)", c.DeliveryID, webhook.ErrLeaseLost, webhook.ErrNotFound)
	}
	if dr.token == "" || dr.token != c.Token || dr.ep == nil {
		return nil, false, fmt.Errorf("memstore: delivery %q: %w", c.DeliveryID, webhook.ErrLeaseLost)
	}
	er := dr.ep
	if dr.d.State != webhook.StatePending || er.ep.Disabled {
		// Ended meanwhile. Only a disable that came while this attempt was
		// in flight leaves the token in place: the receiver's 2xx is then
		// recorded as the success it was; a failure counts nothing.
		endedByDisable := dr.d.State == webhook.StateFailed && dr.d.LastError == webhook.ReasonEndpointDisabled
		if c.Outcome != webhook.OutcomeSuccess || !endedByDisable {
			return nil, false, fmt.Errorf("memstore: delivery %q: %w", c.DeliveryID, webhook.ErrLeaseLost)
		}
	}
	unqueue(dr)
	dr.token = ""
	delete(er.leased, dr.d.ID)
	a := *c.Attempt
	dr.attempts = append(dr.attempts, &a)
	dr.d.Attempts++
	dr.d.UpdatedAt = c.Now

	disabled := false
	switch c.Outcome {
	case webhook.OutcomeSuccess:
		dr.d.State = webhook.StateSucceeded
		dr.d.LastError = ""
		s.ended.push(dr)
		er.ep.ConsecutiveFailures = 0
		er.ep.LastSuccessAt = c.Now
	case webhook.OutcomeRetry:
		dr.d.LastError = c.Attempt.Error
		dr.d.NextAttemptAt = c.RetryAt
		er.pending.push(dr)
		er.ep.LastFailureAt = c.Now
		er.ep.LastFailureReason = c.Attempt.Error
	case webhook.OutcomeFail:
		dr.d.State = webhook.StateFailed
		dr.d.LastError = c.Attempt.Error
		s.ended.push(dr)
		er.ep.ConsecutiveFailures++
		er.ep.LastFailureAt = c.Now
		er.ep.LastFailureReason = c.Attempt.Error
		reason := c.DisableReason
		if reason == "" && c.DisableAfter > 0 && er.ep.ConsecutiveFailures >= c.DisableAfter {
			reason = fmt.Sprintf("%d consecutive failed deliveries; last: %s", er.ep.ConsecutiveFailures, c.Attempt.Error)
		}
		if reason != "" {
			disabled = s.disable(er, reason, c.Now)
		}
	}
	s.fixReady(er)
	return er.ep.Clone(), disabled, nil
}

// Requeue makes ended deliveries pending again, due at p.Now, with Attempts
// reset to 0 and LastError cleared; their attempts stay as history. With
// p.DeliveryID it queues that delivery if it has ended (a pending one counts
// 0); with p.EndpointID the endpoint's failed deliveries created at or after
// p.Since. Deliveries of a disabled endpoint are not queued. An unknown
// delivery or endpoint is webhook.ErrNotFound; setting both or neither of
// DeliveryID and EndpointID is webhook.ErrInvalid.
func (s *Store) Requeue(ctx context.Context, p webhook.RequeueParams) (int, error) {
	if (p.DeliveryID == "") == (p.EndpointID == "") {
		return 0, invalid("RequeueParams: set exactly one of DeliveryID and EndpointID")
	}
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	if p.DeliveryID != "" {
		dr, ok := s.deliveries[p.DeliveryID]
		if !ok {
			return 0, notFound("delivery", p.DeliveryID)
		}
		if dr.d.State == webhook.StatePending {
			return 0, nil
		}
		return s.requeue(dr.ep, []*deliveryRec{dr}, p.Now), nil
	}
	er, ok := s.endpoints[p.EndpointID]
	if !ok {
		return 0, notFound("endpoint", p.EndpointID)
	}
	var failed []*deliveryRec
	for dr := er.deliveries; dr != nil; dr = dr.epNext {
		if dr.d.State == webhook.StateFailed && !dr.d.CreatedAt.Before(p.Since) {
			failed = append(failed, dr)
		}
	}
	return s.requeue(er, failed, p.Now), nil
}

// requeue makes the ended deliveries drs of er pending at now, unless er
// is missing or disabled, and returns how many it queued.
func (s *Store) requeue(er *endpointRec, drs []*deliveryRec, now time.Time) int {
	if er == nil || er.ep.Disabled || len(drs) == 0 {
		return 0
	}
	for _, dr := range drs {
		unqueue(dr) // from the ended heap
		dr.d.State = webhook.StatePending
		dr.d.Attempts = 0
		dr.d.LastError = ""
		dr.token = "" // a lease from before is over
		dr.d.NextAttemptAt = now
		dr.d.UpdatedAt = now
		er.pending.push(dr)
	}
	s.fixReady(er)
	return len(drs)
}
