package sqlstore

// What a Claim sends with its deliveries: their endpoints and the secrets
// that sign them, read for all the claim's endpoints at once.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
)

// claimEndpoints reads the endpoints ids and the secrets that sign their
// deliveries at now (newest first; none for an unsigned endpoint, its
// tenant's for a TenantSecret endpoint), in three statements however many
// endpoints there are: the endpoints, their own secrets, their tenants'
// secrets. An endpoint whose row does not decode or one of whose secrets
// does not decrypt is in unreadable with why (a *corruptEndpointError or
// an *unreadableSecretError), not in eps: that fault is one endpoint's,
// and must not fail the claim of the others. An endpoint that is gone is
// an error wrapping webhook.ErrNotFound.
func (s *Store) claimEndpoints(ctx context.Context, tx querier, ids []string, now time.Time) (eps map[string]*webhook.Endpoint, secrets map[string][]webhook.Secret, unreadable map[string]error, err error) {
	eps = make(map[string]*webhook.Endpoint, len(ids))
	secrets = make(map[string][]webhook.Secret, len(ids))
	unreadable = map[string]error{}
	if err := s.queryIn(ctx, tx, `SELECT `+endpointColumns+` FROM {p}endpoints WHERE id IN (%s)`, ids, func(r *sql.Rows) error {
		ep, err := scanEndpoint(r)
		var bad *corruptEndpointError
		if errors.As(err, &bad) {
			unreadable[bad.id] = bad
			return nil
		}
		if err != nil {
			return err
		}
		eps[ep.ID] = ep
		return nil
	}); err != nil {
		return nil, nil, nil, err
	}
	var own, tenants []string
	byTenant := map[string][]string{}
	for _, id := range ids {
		ep := eps[id]
		switch {
		case ep == nil:
			if unreadable[id] == nil {
				return nil, nil, nil, fmt.Errorf("sqlstore: get endpoint %s: %w", id, webhook.ErrNotFound)
			}
		case ep.Unsigned:
		case ep.TenantSecret:
			if byTenant[ep.TenantID] == nil {
				tenants = append(tenants, ep.TenantID)
			}
			byTenant[ep.TenantID] = append(byTenant[ep.TenantID], id)
		default:
			own = append(own, id)
		}
	}
	fail := func(endpoint string, err error) {
		unreadable[endpoint] = &unreadableSecretError{err}
		delete(eps, endpoint)
		delete(secrets, endpoint)
	}
	nowNanos := clampNanos(now)
	if len(own) > 0 {
		if err := s.queryIn(ctx, tx, `SELECT endpoint_id, key_id, value, created_at, expires_at FROM {p}secrets
			WHERE endpoint_id IN (%s) AND (expires_at IS NULL OR expires_at > ?) ORDER BY endpoint_id, seq DESC`, own, func(r *sql.Rows) error {
			owner, sec, stored, keyID, err := scanSecretRow(r)
			if err != nil {
				return err
			}
			if unreadable[owner] != nil {
				return nil
			}
			if sec.Value, err = s.keys.open(owner, stored, keyID); err != nil {
				fail(owner, err)
				return nil
			}
			secrets[owner] = append(secrets[owner], sec)
			return nil
		}, nowNanos); err != nil {
			return nil, nil, nil, err
		}
	}
	if len(tenants) > 0 {
		bad := map[string]bool{}
		if err := s.queryIn(ctx, tx, `SELECT tenant_id, key_id, value, created_at, expires_at FROM {p}tenant_secrets
			WHERE tenant_id IN (%s) AND (expires_at IS NULL OR expires_at > ?) ORDER BY tenant_id, seq DESC`, tenants, func(r *sql.Rows) error {
			tenant, sec, stored, keyID, err := scanSecretRow(r)
			if err != nil {
				return err
			}
			if bad[tenant] {
				return nil
			}
			if sec.Value, err = s.keys.openTenant(tenant, stored, keyID); err != nil {
				bad[tenant] = true
				for _, ep := range byTenant[tenant] {
					fail(ep, err)
				}
				return nil
			}
			for _, ep := range byTenant[tenant] {
				secrets[ep] = append(secrets[ep], sec)
			}
			return nil
		}, nowNanos); err != nil {
			return nil, nil, nil, err
		}
	}
	return eps, secrets, unreadable, nil
}

// scanSecretRow reads owner, key_id, value, created_at, expires_at: the
// secret without its value, which the caller decrypts from stored.
func scanSecretRow(r *sql.Rows) (owner string, sec webhook.Secret, stored, keyID string, err error) {
	var (
		created int64
		expires sql.NullInt64
	)
	if err := r.Scan(&owner, &keyID, &stored, &created, &expires); err != nil {
		return "", webhook.Secret{}, "", "", err
	}
	return owner, webhook.Secret{CreatedAt: time.Unix(0, created).UTC(), ExpiresAt: fromNanos(expires)}, stored, keyID, nil
}
