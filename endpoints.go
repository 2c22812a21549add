package webhook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// CreateEndpoint validates p and stores a new endpoint. It returns the
// endpoint and its signing secret: p.Secret, or a generated one. The secret
// is returned here only; store it or show it to the customer once. An
// Unsigned endpoint has no secret, and a TenantSecret endpoint signs with
// its tenant's: for both the secret returned is "".
//
// Invalid input returns a *ValidationError (errors.Is ErrInvalid); a full
// tenant returns ErrTooManyEndpoints; in both cases nothing is stored. A
// TenantSecret endpoint needs a Store that implements TenantSecretStore
// (else ErrNotSupported) and a tenant that has a secret (else a
// *ValidationError).
func (d *Dispatcher) CreateEndpoint(ctx context.Context, p EndpointParams) (*Endpoint, string, error) {
	ep, err := d.rules.normalize(p)
	if err != nil {
		return nil, "", err
	}
	if err := d.checkOrdered(ep); err != nil {
		return nil, "", err
	}
	now := d.cfg.Clock()
	secret := p.Secret
	switch {
	case ep.Unsigned:
	case ep.TenantSecret:
		if err := d.checkTenantHasSecret(ctx, ep.TenantID, now); err != nil {
			return nil, "", err
		}
	case secret == "":
		if secret, err = GenerateSecret(); err != nil {
			return nil, "", err
		}
	default:
		if err := d.checkSecret(secret); err != nil {
			return nil, "", err
		}
	}
	if err := d.checkRateLimitStore(ep); err != nil {
		return nil, "", err
	}
	ep.ID = uuid.NewString()
	ep.CreatedAt, ep.UpdatedAt = now, now
	limit := max(d.cfg.MaxEndpointsPerTenant, 0)
	// An endpoint without a secret of its own gets the zero Secret, which
	// a Store keeps as none.
	first := Secret{}
	if secret != "" {
		first = Secret{Value: secret, CreatedAt: now}
	}
	if err := d.store.CreateEndpoint(ctx, ep, first, limit); err != nil {
		return nil, "", fmt.Errorf("webhook: create endpoint: %w", err)
	}
	return ep.Clone(), secret, nil
}

// checkOrdered refuses an Ordered endpoint when the Store cannot keep
// the order (see OrderedStore).
func (d *Dispatcher) checkOrdered(ep *Endpoint) error {
	if !ep.Ordered {
		return nil
	}
	if os, ok := d.store.(OrderedStore); ok && os.OrdersDeliveries() {
		return nil
	}
	return fmt.Errorf("%w: an Ordered endpoint needs a Store that implements OrderedStore (memstore, sqlstore)", ErrNotSupported)
}

// checkSecret rejects custom secrets the signer cannot use, and ones too
// short to be secret.
func (d *Dispatcher) checkSecret(secret string) error {
	if len(secret) < d.cfg.MinSecretLen || len(secret) > maxSecretLen || strings.TrimSpace(secret) != secret || !validText(secret) {
		return invalid("Secret", "use %d to %d bytes of UTF-8 without NUL or surrounding spaces, or leave it empty to generate one", d.cfg.MinSecretLen, maxSecretLen)
	}
	if v, ok := d.cfg.Signer.(SecretValidator); ok {
		return v.ValidateSecret(secret)
	}
	return nil
}

// maxSecretLen bounds a secret the caller supplies.
const maxSecretLen = 256

// GetEndpoint returns the endpoint, or ErrNotFound.
//
// Like every method that takes the ID of an endpoint or a delivery, it
// returns an error wrapping ErrNotFound without asking the Store for an ID
// no Store can hold: empty, over MaxEventIDLen bytes, with a NUL byte or
// invalid UTF-8.
func (d *Dispatcher) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	if err := checkID("endpoint", id); err != nil {
		return nil, err
	}
	return d.store.GetEndpoint(ctx, id)
}

// ListEndpoints returns the tenant's endpoints, oldest first. A tenant ID
// that CreateEndpoint would reject (see EndpointParams.TenantID) returns a
// *ValidationError, not an empty list.
func (d *Dispatcher) ListEndpoints(ctx context.Context, tenantID string) ([]*Endpoint, error) {
	if err := checkTenantID(tenantID); err != nil {
		return nil, err
	}
	return d.store.ListEndpoints(ctx, tenantID)
}

// UpdateEndpoint replaces the endpoint's configuration with p (every
// field: send the whole configuration, p.Inactive included). p.TenantID
// must be empty or the endpoint's own; p.Secret must be empty (use
// RotateSecret). p.Unsigned and p.TenantSecret must be false or the
// endpoint's own: how an endpoint is signed is chosen at creation.
// Counters, disabled state, signing mode and secrets are kept.
func (d *Dispatcher) UpdateEndpoint(ctx context.Context, id string, p EndpointParams) (*Endpoint, error) {
	if err := checkID("endpoint", id); err != nil {
		return nil, err
	}
	cur, err := d.store.GetEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Secret != "" {
		return nil, invalid("Secret", "cannot be changed by UpdateEndpoint; use RotateSecret")
	}
	if err := checkTenantID(p.TenantID); err != nil {
		return nil, err
	}
	if p.TenantID != "" && p.TenantID != cur.TenantID {
		return nil, invalid("TenantID", "an endpoint cannot move to another tenant; create a new one")
	}
	p.TenantID = cur.TenantID
	if p.Unsigned && !cur.Unsigned {
		return nil, invalid("Unsigned", "an endpoint's signing is chosen at creation; create a new Unsigned endpoint")
	}
	if p.TenantSecret && !cur.TenantSecret {
		return nil, invalid("TenantSecret", "an endpoint's signing is chosen at creation; create a new TenantSecret endpoint")
	}
	p.Unsigned, p.TenantSecret = cur.Unsigned, cur.TenantSecret
	next, err := d.rules.normalize(p)
	if err != nil {
		return nil, err
	}
	if err := d.checkRateLimitStore(next); err != nil {
		return nil, err
	}
	if err := d.checkOrdered(next); err != nil {
		return nil, err
	}
	next.ID = cur.ID
	next.CreatedAt = cur.CreatedAt
	next.UpdatedAt = d.cfg.Clock()
	if err := d.store.UpdateEndpoint(ctx, next); err != nil {
		return nil, fmt.Errorf("webhook: update endpoint: %w", err)
	}
	d.dropReady(ctx, id) // claimed ahead with the old settings
	if (cur.Inactive && !next.Inactive) || (cur.Ordered && !next.Ordered) {
		d.wake() // its waiting deliveries are due again
	}
	return d.store.GetEndpoint(ctx, id)
}

// DeleteEndpoint removes the endpoint with its secrets and delivery log.
func (d *Dispatcher) DeleteEndpoint(ctx context.Context, id string) error {
	if err := checkID("endpoint", id); err != nil {
		return err
	}
	if err := d.store.DeleteEndpoint(ctx, id); err != nil {
		return err
	}
	d.dropReady(ctx, id)
	return nil
}

// DisableEndpoint stops deliveries to the endpoint: its pending deliveries
// end as failed with ReasonEndpointDisabled and events published while it
// is disabled create none. reason is kept for the customer to read: at
// most 1000 bytes of UTF-8 without NUL.
func (d *Dispatcher) DisableEndpoint(ctx context.Context, id, reason string) error {
	if reason == "" {
		reason = "disabled manually"
	}
	if len(reason) > 1000 || !validText(reason) {
		return invalid("reason", "use at most 1000 bytes of UTF-8 without NUL")
	}
	if err := checkID("endpoint", id); err != nil {
		return err
	}
	if err := d.store.DisableEndpoint(ctx, id, reason, d.cfg.Clock()); err != nil {
		return err
	}
	d.dropReady(ctx, id)
	return nil
}

// EnableEndpoint re-enables the endpoint and resets its consecutive
// failures. Deliveries that failed meanwhile stay failed; Recover queues
// them again.
func (d *Dispatcher) EnableEndpoint(ctx context.Context, id string) error {
	if err := checkID("endpoint", id); err != nil {
		return err
	}
	return d.store.EnableEndpoint(ctx, id, d.cfg.Clock())
}

// SetEndpointActive switches the endpoint on or off: the customer's own
// switch (EndpointParams.Inactive), not the library's auto-disable. While
// inactive the endpoint gets no deliveries of new events, and its pending
// deliveries wait, counting no failures; once active again they go out.
// Setting the state the endpoint already has changes nothing. Like
// UpdateEndpoint it reads and rewrites the configuration: a concurrent
// UpdateEndpoint may win.
func (d *Dispatcher) SetEndpointActive(ctx context.Context, id string, active bool) error {
	if err := checkID("endpoint", id); err != nil {
		return err
	}
	cur, err := d.store.GetEndpoint(ctx, id)
	if err != nil {
		return err
	}
	if cur.Inactive != active {
		return nil
	}
	cur.Inactive = !active
	cur.UpdatedAt = d.cfg.Clock()
	if err := d.store.UpdateEndpoint(ctx, cur); err != nil {
		return fmt.Errorf("webhook: set endpoint active: %w", err)
	}
	if active {
		d.wake()
	} else {
		d.dropReady(ctx, id)
	}
	return nil
}

// graceEnd is when secrets replaced at now with grace stop signing: now +
// grace, or the start of 2262, the latest time every Store can hold.
func graceEnd(now time.Time, grace time.Duration) time.Time {
	expires := now.Add(grace)
	if expires.After(maxTime) {
		expires = maxTime
	}
	return expires
}

// RotateSecret gives the endpoint a new generated secret and returns it.
// The old secrets keep signing for grace (deliveries carry a signature for
// each, so receivers can switch at their pace); grace 0 retires them at
// once. A grace that would run past the start of 2262, the latest time
// every Store can hold, ends then: math.MaxInt64 keeps the old secrets
// signing until a later rotation retires them. An Unsigned endpoint has no
// secret to rotate, and a TenantSecret endpoint's secret is its tenant's
// (RotateTenantSecret): both return a *ValidationError.
func (d *Dispatcher) RotateSecret(ctx context.Context, id string, grace time.Duration) (string, error) {
	if grace < 0 {
		return "", invalid("grace", "must not be negative")
	}
	if err := checkID("endpoint", id); err != nil {
		return "", err
	}
	ep, err := d.store.GetEndpoint(ctx, id)
	if err != nil {
		return "", err
	}
	switch {
	case ep.Unsigned:
		return "", invalid("endpoint", "%s is Unsigned: it has no secret to rotate", id)
	case ep.TenantSecret:
		return "", invalid("endpoint", "%s signs with its tenant's secrets: rotate them with RotateTenantSecret", id)
	}
	secret, err := GenerateSecret()
	if err != nil {
		return "", err
	}
	now := d.cfg.Clock()
	expires := graceEnd(now, grace)
	if err := d.store.RotateSecret(ctx, id, Secret{Value: secret, CreatedAt: now}, expires); err != nil {
		return "", fmt.Errorf("webhook: rotate secret: %w", err)
	}
	d.dropReady(ctx, id) // claimed ahead with the old secrets
	return secret, nil
}

// Recover queues again the endpoint's failed deliveries created at or
// after since, and returns how many. The endpoint must be enabled: enable
// it first, or the deliveries would only fail again.
func (d *Dispatcher) Recover(ctx context.Context, endpointID string, since time.Time) (int, error) {
	if err := checkID("endpoint", endpointID); err != nil {
		return 0, err
	}
	ep, err := d.store.GetEndpoint(ctx, endpointID)
	if err != nil {
		return 0, err
	}
	if ep.Disabled {
		return 0, invalid("endpoint", "%s is disabled; call EnableEndpoint before Recover", endpointID)
	}
	n, err := d.store.Requeue(ctx, RequeueParams{EndpointID: endpointID, Since: since, Now: d.cfg.Clock()})
	if n > 0 {
		d.wake()
	}
	return n, err
}

// Redeliver queues one ended delivery (succeeded or failed) again.
func (d *Dispatcher) Redeliver(ctx context.Context, deliveryID string) error {
	if err := checkID("delivery", deliveryID); err != nil {
		return err
	}
	n, err := d.store.Requeue(ctx, RequeueParams{DeliveryID: deliveryID, Now: d.cfg.Clock()})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("webhook: redeliver %s: %w: it is still pending or its endpoint is disabled", deliveryID, ErrInvalid)
	}
	d.wake()
	return nil
}

// ListDeliveries pages through the delivery log, newest first. A filter
// whose EndpointID or EventID no Store can hold, whose State is not one of
// the DeliveryState constants, or whose Cursor is not UTF-8 without NUL
// returns a *ValidationError.
func (d *Dispatcher) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error) {
	if err := checkFilter(f); err != nil {
		return nil, "", err
	}
	return d.store.ListDeliveries(ctx, f)
}

// ListAttempts returns a delivery's attempts, oldest first.
func (d *Dispatcher) ListAttempts(ctx context.Context, deliveryID string) ([]*Attempt, error) {
	if err := checkID("delivery", deliveryID); err != nil {
		return nil, err
	}
	return d.store.ListAttempts(ctx, deliveryID)
}

// SendTest sends a TestEventType event to the endpoint now, bypassing the
// queue, and returns the attempt, signed as a delivery would be (with the
// tenant's secrets for a TenantSecret endpoint, unsigned for an Unsigned
// one). It works on disabled and inactive endpoints, is not
// retried, and changes no counters or logs: a customer's "send test"
// button. An error is returned only when the test could not be made (no
// such endpoint); a failed request is an Attempt with Success false. Its
// data is {"message": Config.TestEventMessage}.
func (d *Dispatcher) SendTest(ctx context.Context, endpointID string) (*Attempt, error) {
	if err := checkID("endpoint", endpointID); err != nil {
		return nil, err
	}
	ep, err := d.store.GetEndpoint(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	secrets, err := d.store.EndpointSecrets(ctx, endpointID, d.cfg.Clock())
	if err != nil {
		return nil, err
	}
	ev := Event{
		ID:        uuid.NewString(),
		Type:      TestEventType,
		TenantID:  ep.TenantID,
		CreatedAt: d.cfg.Clock().UTC().Truncate(time.Microsecond),
		Data:      map[string]string{"message": d.cfg.TestEventMessage},
	}
	body, err := d.cfg.Envelope(ev)
	if err != nil {
		return nil, fmt.Errorf("webhook: test envelope: %w", err)
	}
	a := &Attempt{ID: uuid.NewString(), EventID: ev.ID, EndpointID: ep.ID, Number: 1, StartedAt: d.cfg.Clock()}
	fillAttempt(a, d.send(ctx, ep, secrets, ev.ID, body), d.cfg.Clock())
	return a, nil
}
