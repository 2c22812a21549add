package memstore

import (
	"fmt"

	webhook "github.com/outhook/webhook"
)

// Sizes counts what a Store holds, for the tests that check it stays
// bounded.
type Sizes struct {
	Endpoints          int // endpoints
	Tenants            int // tenants with endpoints
	Events             int // stored events
	Deliveries         int // stored deliveries
	Attempts           int // attempts over all deliveries
	Secrets            int // secrets over all endpoints
	EventDeliveries    int // entries of the events' delivery lists
	EndpointDeliveries int // entries of the endpoints' delivery maps
	Pending            int // entries of the endpoints' due heaps
	Leased             int // entries of the leased heap
	Ended              int // entries of the ended heap
	Empty              int // entries of the heap of events without deliveries
	Expiring           int // endpoints with a secret that has an ExpiresAt
}

// Sizes returns the sizes of the Store's internal structures.
func (s *Store) Sizes() Sizes {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := Sizes{
		Endpoints:  len(s.endpoints),
		Tenants:    len(s.tenants),
		Events:     len(s.events),
		Deliveries: len(s.deliveries),
		Leased:     len(s.leased.items),
		Ended:      len(s.ended.items),
		Empty:      len(s.empty),
		Expiring:   len(s.expiring),
	}
	for _, dr := range s.deliveries {
		z.Attempts += len(dr.attempts)
	}
	for _, ev := range s.events {
		z.EventDeliveries += len(ev.deliveries)
	}
	for _, er := range s.endpoints {
		z.Secrets += len(er.secrets)
		for dr := er.deliveries; dr != nil; dr = dr.epNext {
			z.EndpointDeliveries++
		}
		z.Pending += len(er.pending.items)
	}
	return z
}

// Check returns an error describing the first broken link it finds between
// the Store's maps and heaps, or nil.
func (s *Store) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	listed := make(map[*deliveryRec]*endpointRec)
	for _, er := range s.endpoints {
		var prev *deliveryRec
		for dr := er.deliveries; dr != nil; prev, dr = dr, dr.epNext {
			if dr.epPrev != prev || listed[dr] != nil {
				return fmt.Errorf("endpoint %q: its list of deliveries is broken at %q", er.ep.ID, dr.d.ID)
			}
			listed[dr] = er
		}
	}
	inEvents := 0
	for id, dr := range s.deliveries {
		if dr.d.ID != id {
			return fmt.Errorf("delivery %q stored under %q", dr.d.ID, id)
		}
		if s.events[dr.d.EventID] != dr.ev {
			return fmt.Errorf("delivery %q: its event %q is not the stored one", id, dr.d.EventID)
		}
		if dr.ep != nil && (s.endpoints[dr.ep.ep.ID] != dr.ep || listed[dr] != dr.ep) {
			return fmt.Errorf("delivery %q: not linked with its endpoint", id)
		}
		if dr.heap == nil || dr.index < 0 || dr.index >= len(dr.heap.items) || dr.heap.items[dr.index] != dr {
			return fmt.Errorf("delivery %q (%s) is in no heap", id, dr.d.State)
		}
		want := &s.ended
		if dr.d.State == webhook.StatePending {
			if dr.ep == nil {
				return fmt.Errorf("delivery %q is pending without an endpoint", id)
			}
			want = &s.leased
			if dr.heap != want {
				want = &dr.ep.pending
			}
		}
		if dr.heap != want {
			return fmt.Errorf("delivery %q (%s) is in the wrong heap", id, dr.d.State)
		}
	}
	empty := make(map[*eventRec]bool, len(s.empty))
	for _, ev := range s.empty {
		if empty[ev] {
			return fmt.Errorf("event %q twice in the heap of events without deliveries", ev.ev.ID)
		}
		empty[ev] = true
	}
	for id, ev := range s.events {
		for _, dr := range ev.deliveries {
			if s.deliveries[dr.d.ID] != dr {
				return fmt.Errorf("event %q lists delivery %q, which is not stored", id, dr.d.ID)
			}
		}
		inEvents += len(ev.deliveries)
		if empty[ev] != (len(ev.deliveries) == 0) {
			return fmt.Errorf("event %q has %d deliveries; in the heap of events without deliveries: %v", id, len(ev.deliveries), empty[ev])
		}
		delete(empty, ev)
	}
	if len(empty) > 0 {
		return fmt.Errorf("%d deleted events in the heap of events without deliveries", len(empty))
	}
	if inEvents != len(s.deliveries) {
		return fmt.Errorf("events list %d deliveries, %d are stored", inEvents, len(s.deliveries))
	}
	for er := range s.expiring {
		if s.endpoints[er.ep.ID] != er {
			return fmt.Errorf("deleted endpoint %q tracked for expiring secrets", er.ep.ID)
		}
	}
	return nil
}
