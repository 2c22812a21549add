package memstore

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"time"

	webhook "github.com/outhook/webhook"
)

// CreateEndpoint stores a copy of ep with its first secret, or with none
// when secret is the zero Secret (an Unsigned or TenantSecret endpoint). If maxPerTenant
// > 0 and the tenant has that many endpoints already, it returns
// webhook.ErrTooManyEndpoints and stores nothing. An empty or already used
// ID is rejected with webhook.ErrInvalid.
func (s *Store) CreateEndpoint(ctx context.Context, ep *webhook.Endpoint, secret webhook.Secret, maxPerTenant int) error {
	if ep == nil || ep.ID == "" {
		return invalid("endpoint without an ID")
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.endpoints[ep.ID]; ok {
		return invalid("endpoint %q already exists", ep.ID)
	}
	tenant := s.tenants[ep.TenantID]
	if maxPerTenant > 0 && len(tenant) >= maxPerTenant {
		return fmt.Errorf("memstore: tenant %q has %d endpoints: %w", ep.TenantID, len(tenant), webhook.ErrTooManyEndpoints)
	}
	if tenant == nil {
		tenant = make(map[string]*endpointRec)
		s.tenants[ep.TenantID] = tenant
	}
	var secrets []webhook.Secret
	if secret.Value != "" {
		secrets = []webhook.Secret{secret}
	}
	er := &endpointRec{
		ep:      *ep.Clone(),
		seq:     s.nextSeq(),
		secrets: secrets,
		leased:  make(map[string]*deliveryRec),
		qindex:  -1,
	}
	if ep.Ordered {
		er.pending.order = bySeq
	}
	s.endpoints[ep.ID] = er
	tenant[ep.ID] = er
	s.trackExpiry(er)
	return nil
}

// GetEndpoint returns a copy of the endpoint, or webhook.ErrNotFound.
func (s *Store) GetEndpoint(ctx context.Context, id string) (*webhook.Endpoint, error) {
	er, err := s.lockEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return er.ep.Clone(), nil
}

// ListEndpoints returns copies of the tenant's endpoints, oldest first
// (CreatedAt, then the order they were created in).
func (s *Store) ListEndpoints(ctx context.Context, tenantID string) ([]*webhook.Endpoint, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	recs := make([]*endpointRec, 0, len(s.tenants[tenantID]))
	for _, er := range s.tenants[tenantID] {
		recs = append(recs, er)
	}
	slices.SortFunc(recs, func(a, b *endpointRec) int {
		if c := a.ep.CreatedAt.Compare(b.ep.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]*webhook.Endpoint, len(recs))
	for i, er := range recs {
		out[i] = er.ep.Clone()
	}
	return out, nil
}

// UpdateEndpoint replaces the configuration fields of an existing endpoint
// (Name, URL, Events, Method, ContentType, MaxAttempts, Headers, Inactive,
// RateLimit, Ordered, UpdatedAt). TenantID, TenantSecret, Unsigned, CreatedAt, counters, state
// and secrets stay as they are. An endpoint made active again has its
// waiting deliveries claimed in their due order.
func (s *Store) UpdateEndpoint(ctx context.Context, ep *webhook.Endpoint) error {
	if ep == nil {
		return invalid("nil endpoint")
	}
	er, err := s.lockEndpoint(ctx, ep.ID)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	c := ep.Clone()
	er.ep.Name = c.Name
	er.ep.URL = c.URL
	er.ep.Events = c.Events
	er.ep.Method = c.Method
	er.ep.ContentType = c.ContentType
	er.ep.MaxAttempts = c.MaxAttempts
	er.ep.Headers = c.Headers
	er.ep.Inactive = c.Inactive
	er.ep.RateLimit = c.RateLimit
	er.ep.UpdatedAt = c.UpdatedAt
	if er.ep.Ordered != c.Ordered {
		// Issue 11, ordered delivery: re-sort what waits.
		er.ep.Ordered = c.Ordered
		er.pending.order = byDue
		if c.Ordered {
			er.pending.order = bySeq
		}
		er.pending.init()
	}
	s.fixReady(er)
	return nil
}

// DeleteEndpoint removes the endpoint, its secrets, its deliveries and their
// attempts. The events stay, as other endpoints may share them: an event
// left without deliveries is deleted with its body by Maintain once it is
// older than Options.Retention, as sqlstore does, and until then is still
// found by GetEvent and still a duplicate for Enqueue. A worker that holds a
// lease on one of the removed deliveries gets webhook.ErrLeaseLost from
// Complete.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	er, err := s.lockEndpoint(ctx, id)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if er.qindex >= 0 {
		heap.Remove(&s.ready, er.qindex)
	}
	touched := make(map[*eventRec]bool)
	for dr := er.deliveries; dr != nil; dr = dr.epNext {
		unqueue(dr)
		dr.token = ""
		delete(s.deliveries, dr.d.ID)
		touched[dr.ev] = true
	}
	for ev := range touched {
		ev.deliveries = slices.DeleteFunc(ev.deliveries, func(dr *deliveryRec) bool { return dr.ep == er })
		if len(ev.deliveries) == 0 {
			heap.Push(&s.empty, ev)
		}
	}
	delete(s.endpoints, id)
	delete(s.expiring, er)
	tenant := s.tenants[er.ep.TenantID]
	delete(tenant, id)
	if len(tenant) == 0 {
		delete(s.tenants, er.ep.TenantID)
	}
	return nil
}

// DisableEndpoint marks the endpoint disabled with reason and time and ends
// its pending deliveries, leased or not, as failed with
// webhook.ReasonEndpointDisabled. Disabling it again keeps the first reason
// and time.
func (s *Store) DisableEndpoint(ctx context.Context, id, reason string, now time.Time) error {
	er, err := s.lockEndpoint(ctx, id)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.disable(er, reason, now)
	return nil
}

// disable is DisableEndpoint with the lock held. It reports whether the
// endpoint was enabled before.
func (s *Store) disable(er *endpointRec, reason string, now time.Time) bool {
	was := er.ep.Disabled
	if !was {
		er.ep.Disabled = true
		er.ep.DisabledReason = reason
		er.ep.DisabledAt = now
	}
	s.failPending(er, now)
	return !was
}

// failPending ends every pending delivery of er as failed with
// webhook.ReasonEndpointDisabled. A delivery keeps its lease token, so the
// success of an attempt in flight can still be recorded (see Complete).
func (s *Store) failPending(er *endpointRec, now time.Time) {
	end := func(dr *deliveryRec) {
		unqueue(dr)
		dr.d.State = webhook.StateFailed
		dr.d.LastError = webhook.ReasonEndpointDisabled
		dr.d.UpdatedAt = now
		s.ended.push(dr)
	}
	for len(er.pending.items) > 0 {
		end(er.pending.items[len(er.pending.items)-1])
	}
	for id, dr := range er.leased {
		end(dr)
		delete(er.leased, id)
	}
	s.fixReady(er)
}

// EnableEndpoint clears the disabled state and reason and resets
// ConsecutiveFailures. It does not queue anything again: use Requeue.
func (s *Store) EnableEndpoint(ctx context.Context, id string, now time.Time) error {
	er, err := s.lockEndpoint(ctx, id)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	er.ep.Disabled = false
	er.ep.DisabledReason = ""
	er.ep.DisabledAt = time.Time{}
	er.ep.ConsecutiveFailures = 0
	return nil
}

// RotateSecret adds next as the current secret. Every existing secret gets
// ExpiresAt = min(its own, oldExpiresAt), a zero ExpiresAt counting as
// never. Secrets that expired before next.CreatedAt are dropped, since no
// claim can use them again.
func (s *Store) RotateSecret(ctx context.Context, id string, next webhook.Secret, oldExpiresAt time.Time) error {
	er, err := s.lockEndpoint(ctx, id)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	er.secrets = append(rotate(er.secrets, next.CreatedAt, oldExpiresAt), next)
	s.trackExpiry(er)
	return nil
}

// rotate expires secrets at oldExpiresAt (unless they expire sooner) and
// drops those no longer active at created, in place.
func rotate(secrets []webhook.Secret, created, oldExpiresAt time.Time) []webhook.Secret {
	kept := secrets[:0]
	for _, sec := range secrets {
		if sec.ExpiresAt.IsZero() || oldExpiresAt.Before(sec.ExpiresAt) {
			sec.ExpiresAt = oldExpiresAt
		}
		if created.IsZero() || sec.Active(created) {
			kept = append(kept, sec)
		}
	}
	return kept
}

// trackExpiry puts er in s.expiring if one of its secrets has an
// ExpiresAt, and takes it out otherwise.
func (s *Store) trackExpiry(er *endpointRec) {
	for _, sec := range er.secrets {
		if !sec.ExpiresAt.IsZero() {
			s.expiring[er] = struct{}{}
			return
		}
	}
	delete(s.expiring, er)
}

// activeSecrets returns the endpoint's secrets active at now, newest first
// (CreatedAt, then the order they were added).
func (er *endpointRec) activeSecrets(now time.Time) []webhook.Secret {
	return newestActive(er.secrets, now)
}

// newestActive returns the secrets (in the order they were added) active
// at now, newest first (CreatedAt, then the order they were added).
func newestActive(secrets []webhook.Secret, now time.Time) []webhook.Secret {
	out := make([]webhook.Secret, 0, len(secrets))
	for i := len(secrets) - 1; i >= 0; i-- {
		if secrets[i].Active(now) {
			out = append(out, secrets[i])
		}
	}
	slices.SortStableFunc(out, func(a, b webhook.Secret) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out
}

// fixReady puts er in, moves it within, or takes it out of the heap of
// endpoints with unleased pending deliveries after its own heap changed,
// or after it became active or inactive: an Inactive endpoint's deliveries
// wait in its own heap, out of Claim's sight, and so do an Ordered
// endpoint's while one of them is leased.
func (s *Store) fixReady(er *endpointRec) {
	switch {
	case len(er.pending.items) == 0 || er.ep.Inactive || (er.ep.Ordered && len(er.leased) > 0):
		if er.qindex >= 0 {
			heap.Remove(&s.ready, er.qindex)
		}
	case er.qindex < 0:
		heap.Push(&s.ready, er)
	default:
		heap.Fix(&s.ready, er.qindex)
	}
}

// EndpointSecrets returns the endpoint's secrets active at now, newest
// first: the list Claim would return (its tenant's for a TenantSecret
// endpoint). webhook.ErrNotFound if the endpoint does not exist.
func (s *Store) EndpointSecrets(ctx context.Context, id string, now time.Time) ([]webhook.Secret, error) {
	er, err := s.lockEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return s.signingSecrets(er, now), nil
}

// signingSecrets returns the secrets that sign er's deliveries at now,
// newest first: its tenant's for a TenantSecret endpoint, else its own.
func (s *Store) signingSecrets(er *endpointRec, now time.Time) []webhook.Secret {
	if er.ep.TenantSecret {
		return newestActive(s.tenantSecrets[er.ep.TenantID], now)
	}
	return er.activeSecrets(now)
}

// RotateTenantSecret implements webhook.TenantSecretStore: next becomes the
// tenant's current secret; every other one gets ExpiresAt = min(its own,
// oldExpiresAt), and those expired before next.CreatedAt are dropped.
func (s *Store) RotateTenantSecret(ctx context.Context, tenantID string, next webhook.Secret, oldExpiresAt time.Time) error {
	if next.Value == "" {
		return invalid("tenant secret without a value")
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.tenantSecrets[tenantID] = append(rotate(s.tenantSecrets[tenantID], next.CreatedAt, oldExpiresAt), next)
	s.trackTenantExpiry(tenantID)
	return nil
}

// TenantSecrets implements webhook.TenantSecretStore.
func (s *Store) TenantSecrets(ctx context.Context, tenantID string, now time.Time) ([]webhook.Secret, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return newestActive(s.tenantSecrets[tenantID], now), nil
}

// trackTenantExpiry puts the tenant in s.tenantExpiring if one of its
// secrets has an ExpiresAt, and takes it out otherwise.
func (s *Store) trackTenantExpiry(tenantID string) {
	for _, sec := range s.tenantSecrets[tenantID] {
		if !sec.ExpiresAt.IsZero() {
			s.tenantExpiring[tenantID] = struct{}{}
			return
		}
	}
	delete(s.tenantExpiring, tenantID)
}
