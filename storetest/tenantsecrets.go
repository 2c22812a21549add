package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	webhook "github.com/outhook/webhook"
)

func tenantSecret(ep *webhook.Endpoint) { ep.TenantSecret = true }

// TenantSecrets tests webhook.TenantSecretStore: RotateTenantSecret and
// TenantSecrets, and that Claim and EndpointSecrets return the tenant's
// secrets for an endpoint whose TenantSecret is set.
func (s Suite) TenantSecrets(t *testing.T) {
	newStore := s.newStore()

	t.Run("a tenant without secrets has none, and the first rotation gives it one", func(t *testing.T) {
		f, ts := optional[webhook.TenantSecretStore](t, newStore, "TenantSecretStore")
		got, err := ts.TenantSecrets(f.ctx, f.tenant, base)
		require.NoError(t, err)
		assert.Empty(t, got)
		s1 := webhook.Secret{Value: "whsec_tenant_first", CreatedAt: base}
		require.NoError(t, ts.RotateTenantSecret(f.ctx, f.tenant, s1, base))
		got, err = ts.TenantSecrets(f.ctx, f.tenant, base)
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{s1}, got)
		other, err := ts.TenantSecrets(f.ctx, "other-"+f.tenant, base)
		require.NoError(t, err)
		assert.Empty(t, other, "another tenant's secrets")
	})

	t.Run("rotation keeps old secrets until min(own expiry, new expiry), newest first", func(t *testing.T) {
		f, ts := optional[webhook.TenantSecretStore](t, newStore, "TenantSecretStore")
		s1 := webhook.Secret{Value: "whsec_t1", CreatedAt: base}
		s2 := webhook.Secret{Value: "whsec_t2", CreatedAt: at(time.Hour)}
		s3 := webhook.Secret{Value: "whsec_t3", CreatedAt: at(2 * time.Hour)}
		require.NoError(t, ts.RotateTenantSecret(f.ctx, f.tenant, s1, base))
		require.NoError(t, ts.RotateTenantSecret(f.ctx, f.tenant, s2, at(25*time.Hour)))
		require.NoError(t, ts.RotateTenantSecret(f.ctx, f.tenant, s3, at(3*time.Hour)))
		s1.ExpiresAt, s2.ExpiresAt = at(3*time.Hour), at(3*time.Hour)
		got, err := ts.TenantSecrets(f.ctx, f.tenant, at(2*time.Hour+time.Minute))
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{s3, s2, s1}, got)
		got, err = ts.TenantSecrets(f.ctx, f.tenant, at(3*time.Hour))
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{s3}, got)
	})

	t.Run("a TenantSecret endpoint signs with its tenant's secrets, at claim time", func(t *testing.T) {
		f, ts := optional[webhook.TenantSecretStore](t, newStore, "TenantSecretStore")
		s1 := webhook.Secret{Value: "whsec_account_key_1", CreatedAt: base}
		require.NoError(t, ts.RotateTenantSecret(f.ctx, f.tenant, s1, base))
		a := f.createWithoutSecret(tenantSecret)
		b := f.createWithoutSecret(tenantSecret)
		own := f.createEndpoint()
		for _, ep := range []*webhook.Endpoint{a, b} {
			got, err := f.s.EndpointSecrets(f.ctx, ep.ID, base)
			require.NoError(t, err)
			assertSecrets(t, []webhook.Secret{s1}, got)
		}
		got, err := f.s.EndpointSecrets(f.ctx, own.ID, base)
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{firstSecret(own)}, got)

		f.enqueue(base, a, b, own)
		cs := f.claim(base, 10)
		require.Len(t, cs, 3)
		for _, c := range cs {
			want := []webhook.Secret{s1}
			if c.Endpoint.ID == own.ID {
				want = []webhook.Secret{firstSecret(own)}
			} else {
				assert.True(t, c.Endpoint.TenantSecret, "Claim.Endpoint.TenantSecret")
			}
			assertSecrets(t, want, c.Secrets)
			f.succeed(c, at(time.Second))
		}

		// One rotation reaches every TenantSecret endpoint of the tenant.
		s2 := webhook.Secret{Value: "whsec_account_key_2", CreatedAt: at(time.Hour)}
		require.NoError(t, ts.RotateTenantSecret(f.ctx, f.tenant, s2, at(2*time.Hour)))
		s1.ExpiresAt = at(2 * time.Hour)
		f.enqueue(at(time.Hour), a, b)
		during := f.claim(at(time.Hour), 10)
		require.Len(t, during, 2)
		for _, c := range during {
			assertSecrets(t, []webhook.Secret{s2, s1}, c.Secrets)
			f.succeed(c, at(time.Hour+time.Second))
		}
		f.enqueue(at(2*time.Hour), a)
		after := f.claim(at(2*time.Hour), 10)
		require.Len(t, after, 1)
		assertSecrets(t, []webhook.Secret{s2}, after[0].Secrets)
		got, err = f.s.EndpointSecrets(f.ctx, b.ID, at(2*time.Hour))
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{s2}, got)
	})

	t.Run("tenants' secrets do not mix", func(t *testing.T) {
		f, ts := optional[webhook.TenantSecretStore](t, newStore, "TenantSecretStore")
		g := &fixture{t: t, s: f.s, ctx: f.ctx, tenant: "tenant-" + uuid.NewString()}
		mine := webhook.Secret{Value: "whsec_mine_0123456789", CreatedAt: base}
		theirs := webhook.Secret{Value: "whsec_theirs_0123456789", CreatedAt: base}
		require.NoError(t, ts.RotateTenantSecret(f.ctx, f.tenant, mine, base))
		require.NoError(t, ts.RotateTenantSecret(f.ctx, g.tenant, theirs, base))
		a := f.createWithoutSecret(tenantSecret)
		b := g.createWithoutSecret(tenantSecret)
		f.enqueue(base, a)
		g.enqueue(base, b)
		cs := f.claim(base, 10)
		require.Len(t, cs, 2)
		for _, c := range cs {
			want := mine
			if c.Endpoint.ID == b.ID {
				want = theirs
			}
			assertSecrets(t, []webhook.Secret{want}, c.Secrets)
		}
	})

	t.Run("a TenantSecret endpoint of a tenant without secrets has none", func(t *testing.T) {
		f, _ := optional[webhook.TenantSecretStore](t, newStore, "TenantSecretStore")
		ep := f.createWithoutSecret(tenantSecret)
		got, err := f.s.EndpointSecrets(f.ctx, ep.ID, base)
		require.NoError(t, err)
		assert.Empty(t, got)
		_, ds := f.enqueue(base, ep)
		assert.Empty(t, f.claimOne(base, ds[0].ID).Secrets)
	})

	t.Run("deleting the tenant's endpoints keeps its secrets", func(t *testing.T) {
		f, ts := optional[webhook.TenantSecretStore](t, newStore, "TenantSecretStore")
		s1 := webhook.Secret{Value: "whsec_kept_0123456789", CreatedAt: base}
		require.NoError(t, ts.RotateTenantSecret(f.ctx, f.tenant, s1, base))
		ep := f.createWithoutSecret(tenantSecret)
		require.NoError(t, f.s.DeleteEndpoint(f.ctx, ep.ID))
		got, err := ts.TenantSecrets(f.ctx, f.tenant, base)
		require.NoError(t, err)
		assertSecrets(t, []webhook.Secret{s1}, got)
	})
}
