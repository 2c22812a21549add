package webhook

import (
	"context"
	"fmt"
	"time"
)

// StatsReader is an optional Store ability, found by type assertion: it
// reports the backlog and recent outcomes that dashboards, the customer
// portal and metrics read (Dispatcher.Stats). memstore and sqlstore
// implement it.
//
// Stats answers for the endpoints in scope: every endpoint when
// p.TenantID and p.EndpointIDs are empty, the tenant's with TenantID, the
// listed ones with EndpointIDs, and the listed ones of the tenant with
// both. IDs of endpoints that do not exist (or belong to another tenant)
// are ignored. Deliveries and attempts count toward the endpoint they
// belong to; those of a deleted endpoint are gone with it.
//
//   - Pending counts the pending deliveries, leased ones (in flight)
//     included; OldestPendingAt is the smallest CreatedAt among them, zero
//     when none is pending.
//   - With p.Window > 0, Succeeded and Failed count the attempts that
//     started in [p.Now-p.Window, p.Now), by Attempt.Success, and
//     DeliveriesFailed the deliveries in state failed last updated in that
//     interval (those ended by a disable included). With p.Window == 0 the
//     three are zero and the Store need not read attempts at all: the cheap
//     call the backlog gauges make.
//   - EndpointsDisabled counts the disabled endpoints in scope.
//   - With p.ByEndpoint, Endpoints holds one entry per endpoint in scope,
//     zero counts included; otherwise it is nil. The totals are the sums
//     of the entries (OldestPendingAt their minimum) either way.
//
// The Store fills every field but OldestPendingAge (Dispatcher.Stats
// derives it from Now).
type StatsReader interface {
	// Stats reports the backlog and recent outcomes of the endpoints in
	// scope.
	Stats(ctx context.Context, p StatsParams) (*Stats, error)
}

// StatsWindowMax is the longest StatsParams.Window accepted.
const StatsWindowMax = 366 * 24 * time.Hour

// MaxStatsEndpointIDs is how many endpoint IDs one StatsParams may list.
const MaxStatsEndpointIDs = 1000

// StatsParams says what Stats reports on. The zero value asks for the
// backlog of every endpoint now, without per-endpoint entries and without
// attempt counts.
type StatsParams struct {
	// Now is the end of the window and the time ages are measured at.
	// Dispatcher.Stats uses Config.Clock when it is zero.
	Now time.Time
	// Window, when positive, asks for the attempt and failure counts of
	// the last Window: [Now-Window, Now). 0 leaves them out (cheaper: no
	// attempt is read). At most StatsWindowMax.
	Window time.Duration
	// TenantID, when set, keeps only that tenant's endpoints. Empty means
	// every tenant, as in DeliveryFilter.
	TenantID string
	// EndpointIDs, when set, keeps only these endpoints (at most
	// MaxStatsEndpointIDs). IDs that match no endpoint are ignored.
	EndpointIDs []string
	// ByEndpoint asks for Stats.Endpoints, one entry per endpoint in
	// scope.
	ByEndpoint bool
}

// Stats is the backlog and recent outcomes of a set of endpoints; see
// StatsReader for what each count means.
type Stats struct {
	// Now and Window are the StatsParams the counts are for.
	Now    time.Time
	Window time.Duration
	// Counts is the total over every endpoint in scope.
	Counts
	// EndpointsDisabled is how many endpoints in scope are disabled.
	EndpointsDisabled int
	// Endpoints holds, with StatsParams.ByEndpoint, the counts of each
	// endpoint in scope by endpoint ID; nil otherwise.
	Endpoints map[string]EndpointStats
}

// Counts are the numbers Stats reports, overall and per endpoint.
type Counts struct {
	// Pending counts pending deliveries, in flight or waiting.
	Pending int
	// OldestPendingAt is the CreatedAt of the oldest pending delivery;
	// zero when nothing is pending. A delivery queued again by Redeliver or
	// Recover keeps its CreatedAt.
	OldestPendingAt time.Time
	// OldestPendingAge is Now minus OldestPendingAt ("age of the oldest
	// pending delivery"), never negative; 0 when nothing is pending.
	OldestPendingAge time.Duration
	// Succeeded and Failed count the attempts that started within the
	// window, by success; 0 when Window is 0.
	Succeeded int
	Failed    int
	// DeliveriesFailed counts the deliveries that ended failed within the
	// window (retries exhausted, 410 Gone, or the endpoint disabled); 0
	// when Window is 0.
	DeliveriesFailed int
}

// EndpointStats are the counts of one endpoint.
type EndpointStats struct {
	EndpointID string
	TenantID   string
	Disabled   bool
	Counts
}

// Add adds o's counts to c: the sums, and the earlier OldestPendingAt.
// Stores use it to total their per-endpoint counts.
func (c *Counts) Add(o Counts) {
	c.Pending += o.Pending
	c.Succeeded += o.Succeeded
	c.Failed += o.Failed
	c.DeliveriesFailed += o.DeliveriesFailed
	if !o.OldestPendingAt.IsZero() && (c.OldestPendingAt.IsZero() || o.OldestPendingAt.Before(c.OldestPendingAt)) {
		c.OldestPendingAt = o.OldestPendingAt
	}
}

// setAge sets OldestPendingAge from OldestPendingAt and now.
func (c *Counts) setAge(now time.Time) {
	c.OldestPendingAge = 0
	if !c.OldestPendingAt.IsZero() && now.After(c.OldestPendingAt) {
		c.OldestPendingAge = now.Sub(c.OldestPendingAt)
	}
}

// Stats reports the pending deliveries and the age of the oldest, the
// attempts that succeeded and failed and the deliveries that failed in the
// last p.Window, and the disabled endpoints: overall, and per endpoint
// with p.ByEndpoint. The customer portal and the otel module's gauges
// read it. A zero p.Now means Config.Clock.
//
// The Store must implement StatsReader (memstore and sqlstore do);
// otherwise Stats returns ErrNotSupported. Invalid input returns a
// *ValidationError.
func (d *Dispatcher) Stats(ctx context.Context, p StatsParams) (*Stats, error) {
	sr, ok := d.store.(StatsReader)
	if !ok {
		return nil, fmt.Errorf("%w: Stats needs a Store with Stats (memstore, sqlstore)", ErrNotSupported)
	}
	if err := checkStatsParams(p); err != nil {
		return nil, err
	}
	if p.Now.IsZero() {
		p.Now = d.cfg.Clock()
	}
	if p.Now.Before(minEventTime) || !p.Now.Before(maxTime) {
		return nil, invalid("Now", "%s is out of range: use a time from 1970-01-01 to before 2262-01-01 UTC, or zero for now", p.Now.UTC().Format(time.RFC3339))
	}
	p.EndpointIDs = append([]string(nil), p.EndpointIDs...)
	st, err := sr.Stats(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("webhook: stats: %w", err)
	}
	st.Now, st.Window = p.Now, p.Window
	st.setAge(p.Now)
	for id, e := range st.Endpoints {
		e.setAge(p.Now)
		st.Endpoints[id] = e
	}
	return st, nil
}

// checkStatsParams validates what a caller passes to Stats.
func checkStatsParams(p StatsParams) error {
	if p.Window < 0 || p.Window > StatsWindowMax {
		return invalid("Window", "use 0 (no attempt counts) up to %s", StatsWindowMax)
	}
	if p.TenantID != "" && (len(p.TenantID) > MaxTenantIDLen || !validLabel(p.TenantID)) {
		return invalid("TenantID", "use at most %d bytes of UTF-8 without control characters", MaxTenantIDLen)
	}
	if len(p.EndpointIDs) > MaxStatsEndpointIDs {
		return invalid("EndpointIDs", "%d IDs: ask for at most %d at a time", len(p.EndpointIDs), MaxStatsEndpointIDs)
	}
	for _, id := range p.EndpointIDs {
		if !validID(id) {
			return invalid("EndpointIDs", "not an endpoint ID: at most %d bytes of UTF-8 without NUL", MaxEventIDLen)
		}
	}
	return nil
}
