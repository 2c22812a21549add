package webhook

import (
	"context"
	"fmt"
	"time"
)

// TenantSecretStore is an optional Store ability, found by type assertion:
// secrets that belong to a tenant rather than to one endpoint, for products
// that sign with one secret per account or portal (ProductLift, Smarter
// Launch). Endpoints created with EndpointParams.TenantSecret sign with
// them. Without it, RotateTenantSecret, SetTenantSecret and CreateEndpoint
// of a TenantSecret endpoint return ErrNotSupported.
//
// A Store that implements it returns, for an endpoint whose TenantSecret is
// set, the tenant's secrets active at the time in Claim.Secrets and from
// EndpointSecrets (none while the tenant has none), never the endpoint's
// own. A tenant's secrets outlive its endpoints: deleting every endpoint
// of the tenant keeps them.
type TenantSecretStore interface {
	// RotateTenantSecret adds next as the tenant's current secret (its
	// first, if it has none): every other secret of the tenant gets
	// ExpiresAt = min(its own, oldExpiresAt), and secrets already expired
	// at next.CreatedAt may be dropped. The tenant needs no endpoint.
	RotateTenantSecret(ctx context.Context, tenantID string, next Secret, oldExpiresAt time.Time) error
	// TenantSecrets returns the tenant's secrets active at now, newest
	// first; none, without error, for a tenant that has none.
	TenantSecrets(ctx context.Context, tenantID string, now time.Time) ([]Secret, error)
}

// tenantSecrets returns the Store's TenantSecretStore, or ErrNotSupported.
func (d *Dispatcher) tenantSecrets(what string) (TenantSecretStore, error) {
	ts, ok := d.store.(TenantSecretStore)
	if !ok {
		return nil, fmt.Errorf("%w: %s needs a Store with tenant secrets (webhook.TenantSecretStore: memstore, sqlstore)", ErrNotSupported, what)
	}
	return ts, nil
}

// RotateTenantSecret gives the tenant a new generated secret, its first or
// the next, and returns it: every endpoint of the tenant created with
// EndpointParams.TenantSecret signs with it from now on. As with
// RotateSecret, the tenant's old secrets keep signing for grace (so
// receivers can switch at their pace; how each Signer uses several secrets
// is on its type) and grace 0 retires them at once. The secret is returned
// here only. The Store must implement TenantSecretStore, else
// ErrNotSupported.
func (d *Dispatcher) RotateTenantSecret(ctx context.Context, tenantID string, grace time.Duration) (string, error) {
	secret, err := GenerateSecret()
	if err != nil {
		return "", err
	}
	if err := d.setTenantSecret(ctx, tenantID, secret, grace, "RotateTenantSecret"); err != nil {
		return "", err
	}
	return secret, nil
}

// SetTenantSecret makes secret the tenant's current secret, as
// RotateTenantSecret does with a generated one: to import the key an
// account already has, or one the customer chose. secret follows the rules
// of EndpointParams.Secret (and the Signer's, if it validates secrets);
// a bad one returns a *ValidationError.
func (d *Dispatcher) SetTenantSecret(ctx context.Context, tenantID, secret string, grace time.Duration) error {
	if secret == "" {
		return invalid("Secret", "required; RotateTenantSecret generates one")
	}
	if err := d.checkSecret(secret); err != nil {
		return err
	}
	return d.setTenantSecret(ctx, tenantID, secret, grace, "SetTenantSecret")
}

func (d *Dispatcher) setTenantSecret(ctx context.Context, tenantID, secret string, grace time.Duration, what string) error {
	if err := checkTenantID(tenantID); err != nil {
		return err
	}
	if grace < 0 {
		return invalid("grace", "must not be negative")
	}
	ts, err := d.tenantSecrets(what)
	if err != nil {
		return err
	}
	now := d.cfg.Clock()
	if err := ts.RotateTenantSecret(ctx, tenantID, Secret{Value: secret, CreatedAt: now}, graceEnd(now, grace)); err != nil {
		return fmt.Errorf("webhook: rotate tenant secret: %w", err)
	}
	return nil
}

// checkTenantHasSecret is CreateEndpoint's check for a TenantSecret
// endpoint: the Store keeps tenant secrets and the tenant has one.
func (d *Dispatcher) checkTenantHasSecret(ctx context.Context, tenantID string, now time.Time) error {
	ts, err := d.tenantSecrets("a TenantSecret endpoint")
	if err != nil {
		return err
	}
	secrets, err := ts.TenantSecrets(ctx, tenantID, now)
	if err != nil {
		return fmt.Errorf("webhook: create endpoint: %w", err)
	}
	if len(secrets) == 0 {
		return invalid("TenantSecret", "tenant %q has no secret yet: give it one with RotateTenantSecret or SetTenantSecret first", tenantID)
	}
	return nil
}
