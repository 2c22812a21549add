package sqlstore

// What a Claim sends with its deliveries: their endpoints and the secrets
// that sign them, read for all the claim's endpoints at once.

import (
	"context"
	"database/sql"
	"errors"
	"time"

	webhook "github.com/outhook/webhook"
)

// claimEndpoints reads the endpoints ids and the secrets that sign their
// deliveries at now (newest first; none for an unsigned endpoint, its
// tenant's for a TenantSecret endpoint), in two statements however many
// endpoints there are: the endpoints with their own secrets, and their
// tenants' secrets when any is signed by its tenant's. An endpoint whose row does not decode or one of whose secrets
// does not decrypt is in unreadable with why (a *corruptEndpointError or
// an *unreadableSecretError), not in eps: that fault is one endpoint's,
// and must not fail the claim of the others. An endpoint that is gone
// (deleted since its deliveries were leased, which on PostgreSQL's fast
// claim can happen between the lease and this read) is in gone, not eps.
func (s *Store) claimEndpoints(ctx context.Context, tx querier, ids []string, now time.Time) (eps map[string]*webhook.Endpoint, secrets map[string][]webhook.Secret, unreadable map[string]error, gone map[string]bool, err error) {
	eps = make(map[string]*webhook.Endpoint, len(ids))
	secrets = make(map[string][]webhook.Secret, len(ids))
	unreadable = map[string]error{}
	fail := func(endpoint string, err error) {
		unreadable[endpoint] = &unreadableSecretError{err}
		delete(eps, endpoint)
		delete(secrets, endpoint)
	}
	nowNanos := clampNanos(now)
	// The endpoints with their own active secrets, newest first: a row per
	// secret, or one with NULLs for an endpoint without (unsigned, signed
	// by its tenant's, or with none active).
	if err := s.queryInArgs(ctx, tx, `SELECT `+endpointColumnsE+`, sec.key_id, sec.value, sec.created_at, sec.expires_at
		FROM {p}endpoints e LEFT JOIN {p}secrets sec ON sec.endpoint_id = e.id AND e.signing = ''
			AND (sec.expires_at IS NULL OR sec.expires_at > ?)
		WHERE e.id IN (%s) ORDER BY e.id, sec.seq DESC`, []any{nowNanos}, ids, func(r *sql.Rows) error {
		var (
			keyID, stored    sql.NullString
			created, expires sql.NullInt64
		)
		ep, err := scanEndpoint(r, &keyID, &stored, &created, &expires)
		var bad *corruptEndpointError
		if errors.As(err, &bad) {
			unreadable[bad.id] = bad
			return nil
		}
		if err != nil {
			return err
		}
		if unreadable[ep.ID] != nil {
			return nil
		}
		if eps[ep.ID] == nil {
			eps[ep.ID] = ep
		}
		if !stored.Valid {
			return nil
		}
		plain, err := s.keys.open(ep.ID, stored.String, keyID.String)
		if err != nil {
			fail(ep.ID, err)
			return nil
		}
		secrets[ep.ID] = append(secrets[ep.ID], webhook.Secret{Value: plain, CreatedAt: time.Unix(0, created.Int64).UTC(), ExpiresAt: fromNanos(expires)})
		return nil
	}); err != nil {
		return nil, nil, nil, nil, err
	}
	var tenants []string
	byTenant := map[string][]string{}
	for _, id := range ids {
		ep := eps[id]
		switch {
		case ep == nil:
			if unreadable[id] == nil {
				if gone == nil {
					gone = map[string]bool{}
				}
				gone[id] = true
			}
		case ep.Unsigned:
		case ep.TenantSecret:
			if byTenant[ep.TenantID] == nil {
				tenants = append(tenants, ep.TenantID)
			}
			byTenant[ep.TenantID] = append(byTenant[ep.TenantID], id)
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
			return nil, nil, nil, nil, err
		}
	}
	return eps, secrets, unreadable, gone, nil
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
