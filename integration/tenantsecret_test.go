package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	webhook "github.com/outhook/webhook"
	"github.com/outhook/webhook/sqlstore"
)

// TestTenantSecretsEncryptedAtRest: a tenant's secrets are encrypted like
// an endpoint's, bound to the tenant, and ReencryptSecrets rewrites them.
func TestTenantSecretsEncryptedAtRest(t *testing.T) {
	const secret = "whsec_dGVuYW50LXNlY3JldC12YWx1ZS0xMjM0NTY3ODk="
	k1 := sqlstore.EncryptionKey{ID: "2026-01", Key: []byte("k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1")}
	k2 := sqlstore.EncryptionKey{ID: "2026-07", Key: []byte("k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2")}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			sd := newSeed(t, b, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k1}})
			if err := sd.s.RotateTenantSecret(ctx, "acct-1", webhook.Secret{Value: secret, CreatedAt: t0}, t0); err != nil {
				t.Fatal(err)
			}
			dump := func() string {
				rows, err := sd.db.Query(`SELECT tenant_id, key_id, value FROM outhook_tenant_secrets`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var sb strings.Builder
				for rows.Next() {
					var a, k, v string
					if err := rows.Scan(&a, &k, &v); err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(&sb, "%s|%s|%s\n", a, k, v)
				}
				return sb.String()
			}
			d := dump()
			if strings.Contains(d, secret) || strings.Contains(d, "dGVuYW50LXNlY3JldC12") || !strings.Contains(d, "acct-1|2026-01|") {
				t.Fatalf("tenant secret not encrypted under 2026-01:\n%s", d)
			}
			if got, err := sd.s.TenantSecrets(ctx, "acct-1", t0); err != nil || len(got) != 1 || got[0].Value != secret {
				t.Fatalf("TenantSecrets = %v, %v", got, err)
			}

			// A ciphertext copied to another tenant does not decrypt there.
			if _, err := sd.db.Exec(rebind(b, `INSERT INTO outhook_tenant_secrets (tenant_id, seq, key_id, value, created_at)
				SELECT 'acct-2', seq, key_id, value, created_at FROM outhook_tenant_secrets WHERE tenant_id = 'acct-1'`)); err != nil {
				t.Fatal(err)
			}
			if _, err := sd.s.TenantSecrets(ctx, "acct-2", t0); err == nil {
				t.Fatal("a tenant secret copied to another tenant decrypted")
			}
			if _, err := sd.db.Exec(`DELETE FROM outhook_tenant_secrets WHERE tenant_id = 'acct-2'`); err != nil {
				t.Fatal(err)
			}

			rotated := newStore(t, sd.db, b.dialect, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k2, k1}})
			n, err := rotated.ReencryptSecrets(ctx)
			if err != nil || n != 2 {
				t.Fatalf("ReencryptSecrets = %d, %v; want 2 (the seed endpoint's and the tenant's)", n, err)
			}
			if d := dump(); strings.Contains(d, "|2026-01|") {
				t.Fatalf("after re-encryption:\n%s", d)
			}
			only2 := newStore(t, sd.db, b.dialect, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k2}})
			if got, err := only2.TenantSecrets(ctx, "acct-1", t0); err != nil || len(got) != 1 || got[0].Value != secret {
				t.Fatalf("with k2 only: %v, %v", got, err)
			}
			none := newStore(t, sd.db, b.dialect, &sqlstore.Options{EncryptionKeys: []sqlstore.EncryptionKey{k1}})
			if _, err := none.TenantSecrets(ctx, "acct-1", t0); !errors.Is(err, sqlstore.ErrUnknownKey) {
				t.Fatalf("with the wrong key: %v, want ErrUnknownKey", err)
			}
		})
	}
}
