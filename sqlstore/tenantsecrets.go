package sqlstore

import (
	"context"
	"fmt"
	"time"

	webhook "github.com/outhook/webhook"
)

var _ webhook.TenantSecretStore = (*Store)(nil)

// RotateTenantSecret implements webhook.TenantSecretStore. Tenant secrets
// are encrypted at rest like endpoint secrets when Options.EncryptionKeys
// are set (bound to their tenant), and ReencryptSecrets rewrites them too.
func (s *Store) RotateTenantSecret(ctx context.Context, tenantID string, next webhook.Secret, oldExpiresAt time.Time) error {
	if next.Value == "" {
		return fmt.Errorf("sqlstore: rotate tenant secret: %w: the secret is empty", webhook.ErrInvalid)
	}
	stored, keyID, err := s.keys.sealTenant(tenantID, next.Value)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx querier) error {
		// No row to lock for a tenant: serialise its rotations so the next
		// seq is taken once.
		if err := s.dia.serialize(ctx, tx, "outhook/"+s.prefix+"/tenant-secret/"+tenantID); err != nil {
			return err
		}
		old := clampNanos(oldExpiresAt)
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}tenant_secrets SET expires_at = ?
			WHERE tenant_id = ? AND (expires_at IS NULL OR expires_at > ?)`), old, tenantID, old); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO {p}tenant_secrets (tenant_id, seq, key_id, value, created_at, expires_at)
			VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM {p}tenant_secrets WHERE tenant_id = ?), ?, ?, ?, ?)`),
			tenantID, tenantID, keyID, stored, clampNanos(next.CreatedAt), nanos(next.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: rotate tenant secret: %w", err)
	}
	return nil
}

// TenantSecrets implements webhook.TenantSecretStore.
func (s *Store) TenantSecrets(ctx context.Context, tenantID string, now time.Time) ([]webhook.Secret, error) {
	sec, err := s.tenantSecrets(ctx, s.db, tenantID, now)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: tenant secrets: %w", err)
	}
	return sec, nil
}

// tenantSecrets returns the tenant's secrets that sign at now, newest
// first, decrypted.
func (s *Store) tenantSecrets(ctx context.Context, db querier, tenantID string, now time.Time) ([]webhook.Secret, error) {
	rows, err := db.QueryContext(ctx, s.q(`SELECT key_id, value, created_at, expires_at FROM {p}tenant_secrets
		WHERE tenant_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq DESC`), tenantID, clampNanos(now))
	if err != nil {
		return nil, err
	}
	return s.scanSecrets(rows, func(stored, keyID string) (string, error) { return s.keys.openTenant(tenantID, stored, keyID) })
}
