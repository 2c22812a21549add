package memstore

import (
	"context"
	"time"

	webhook "github.com/outhook/webhook"
)

// Stats implements webhook.StatsReader. It holds the Store's lock while it
// counts, and costs, for each endpoint in scope, a look at each of its
// pending deliveries; with p.Window > 0 also at each of its deliveries
// and their attempts still kept (see Retention). Fine for the sizes an
// in-memory store holds; the dispatcher's gauges call it with Window 0.
func (s *Store) Stats(ctx context.Context, p webhook.StatsParams) (*webhook.Stats, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	st := &webhook.Stats{Now: p.Now, Window: p.Window}
	if p.ByEndpoint {
		st.Endpoints = make(map[string]webhook.EndpointStats)
	}
	for _, er := range s.inScope(p) {
		es := webhook.EndpointStats{EndpointID: er.ep.ID, TenantID: er.ep.TenantID, Disabled: er.ep.Disabled}
		s.countPending(er, &es.Counts)
		if p.Window > 0 {
			countWindow(er, p.Now.Add(-p.Window), p.Now, &es.Counts)
		}
		if es.Disabled {
			st.EndpointsDisabled++
		}
		st.Add(es.Counts)
		if st.Endpoints != nil {
			st.Endpoints[er.ep.ID] = es
		}
	}
	return st, nil
}

// inScope returns the endpoints p asks about.
func (s *Store) inScope(p webhook.StatsParams) []*endpointRec {
	var out []*endpointRec
	keep := func(er *endpointRec) {
		if er != nil && (p.TenantID == "" || er.ep.TenantID == p.TenantID) {
			out = append(out, er)
		}
	}
	switch {
	case len(p.EndpointIDs) > 0:
		seen := make(map[string]bool, len(p.EndpointIDs))
		for _, id := range p.EndpointIDs {
			if !seen[id] {
				seen[id] = true
				keep(s.endpoints[id])
			}
		}
	case p.TenantID != "":
		for _, er := range s.tenants[p.TenantID] {
			keep(er)
		}
	default:
		for _, er := range s.endpoints {
			keep(er)
		}
	}
	return out
}

// countPending counts er's pending deliveries, waiting or leased, and
// finds the oldest by CreatedAt.
func (s *Store) countPending(er *endpointRec, c *webhook.Counts) {
	see := func(dr *deliveryRec) {
		c.Pending++
		if c.OldestPendingAt.IsZero() || dr.d.CreatedAt.Before(c.OldestPendingAt) {
			c.OldestPendingAt = dr.d.CreatedAt
		}
	}
	for _, dr := range er.pending.items {
		see(dr)
	}
	for _, dr := range er.leased {
		see(dr)
	}
}

// countWindow counts er's attempts that started in [from, to) and its
// deliveries that ended failed then.
func countWindow(er *endpointRec, from, to time.Time, c *webhook.Counts) {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	for dr := er.deliveries; dr != nil; dr = dr.epNext {
		if dr.d.State == webhook.StateFailed && in(dr.d.UpdatedAt) {
			c.DeliveriesFailed++
		}
		for _, a := range dr.attempts {
			if !in(a.StartedAt) {
				continue
			}
			if a.Success {
				c.Succeeded++
			} else {
				c.Failed++
			}
		}
	}
}
