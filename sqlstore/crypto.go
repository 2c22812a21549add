package sqlstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// EncryptionKey is one AES-256 key for secrets at rest.
type EncryptionKey struct {
	// ID names the key; it is stored beside every secret it encrypts, so
	// it must never be reused for different key bytes. 1 to 32 bytes,
	// e.g. "2026-01".
	ID string
	// Key is 32 random bytes (AES-256).
	Key []byte
}

// ErrUnknownKey is returned when a secret in the database names an
// encryption key that Options.EncryptionKeys does not hold, or is
// encrypted while no key is configured.
var ErrUnknownKey = errors.New("sqlstore: secret encrypted with a key that is not configured")

// unreadableSecretError marks a stored secret that does not decrypt with
// the configured keys (unknown key ID, corrupt ciphertext): a fault of one
// endpoint's data, which Claim handles per endpoint, unlike a database
// error.
type unreadableSecretError struct{ err error }

func (e *unreadableSecretError) Error() string { return e.err.Error() }
func (e *unreadableSecretError) Unwrap() error { return e.err }

// keyring holds the configured keys; the first one encrypts.
type keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

func newKeyring(keys []EncryptionKey) (keyring, error) {
	kr := keyring{aeads: map[string]cipher.AEAD{}}
	for i, k := range keys {
		if k.ID == "" || len(k.ID) > 32 {
			return kr, fmt.Errorf("sqlstore: EncryptionKeys[%d]: ID must be 1 to 32 bytes", i)
		}
		if len(k.Key) != 32 {
			return kr, fmt.Errorf("sqlstore: EncryptionKeys[%d] (%s): key is %d bytes; AES-256 needs 32 random bytes", i, k.ID, len(k.Key))
		}
		if _, dup := kr.aeads[k.ID]; dup {
			return kr, fmt.Errorf("sqlstore: EncryptionKeys: ID %q appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return kr, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return kr, err
		}
		kr.aeads[k.ID] = aead
		if i == 0 {
			kr.current = k.ID
		}
	}
	return kr, nil
}

// secretAAD binds a ciphertext to its endpoint, so a row copied to another
// endpoint does not decrypt.
func secretAAD(endpointID string) []byte {
	return []byte("outhook/secret/v1/" + endpointID)
}

// tenantSecretAAD binds a ciphertext to its tenant, so a row copied to
// another tenant, or to an endpoint's secrets, does not decrypt.
func tenantSecretAAD(tenantID string) []byte {
	return []byte("outhook/tenant-secret/v1/" + tenantID)
}

// seal returns the stored form of an endpoint's secret value and the ID of
// the key that encrypted it ("" when stored as it is). The stored form of
// an encrypted value is base64(nonce || AES-256-GCM ciphertext and tag).
func (kr keyring) seal(endpointID, value string) (stored, keyID string, err error) {
	return kr.sealAAD(secretAAD(endpointID), value)
}

// sealTenant is seal for a tenant's secret.
func (kr keyring) sealTenant(tenantID, value string) (stored, keyID string, err error) {
	return kr.sealAAD(tenantSecretAAD(tenantID), value)
}

func (kr keyring) sealAAD(aad []byte, value string) (stored, keyID string, err error) {
	if kr.current == "" {
		return value, "", nil
	}
	aead := kr.aeads[kr.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(value)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", "", fmt.Errorf("sqlstore: nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, []byte(value), aad)
	return base64.StdEncoding.EncodeToString(out), kr.current, nil
}

// open is the inverse of seal.
func (kr keyring) open(endpointID, stored, keyID string) (string, error) {
	return kr.openAAD(secretAAD(endpointID), "endpoint "+endpointID, stored, keyID)
}

// openTenant is the inverse of sealTenant.
func (kr keyring) openTenant(tenantID, stored, keyID string) (string, error) {
	return kr.openAAD(tenantSecretAAD(tenantID), fmt.Sprintf("tenant %q", tenantID), stored, keyID)
}

// openAAD decrypts a value sealed with aad; owner names whose secret it is.
func (kr keyring) openAAD(aad []byte, owner, stored, keyID string) (string, error) {
	if keyID == "" {
		return stored, nil
	}
	aead, ok := kr.aeads[keyID]
	if !ok {
		return "", fmt.Errorf("%w (key ID %q)", ErrUnknownKey, keyID)
	}
	raw, err := base64.StdEncoding.DecodeString(stored)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", fmt.Errorf("sqlstore: secret of %s is corrupt", owner)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad)
	if err != nil {
		return "", fmt.Errorf("sqlstore: secret of %s does not decrypt with key %q: %w", owner, keyID, err)
	}
	return string(plain), nil
}

// ReencryptSecrets rewrites every secret, endpoints' and tenants', not
// yet under the first of Options.EncryptionKeys (or stored in the clear)
// with that key, a few hundred rows per transaction, and returns how many
// it rewrote. Run it after putting a new key first; then the old keys can
// be dropped. With no key configured it does nothing.
func (s *Store) ReencryptSecrets(ctx context.Context) (int, error) {
	if s.keys.current == "" {
		return 0, nil
	}
	n, err := s.reencrypt(ctx, "secrets", "endpoint_id", s.keys.open, s.keys.seal)
	if err != nil {
		return n, err
	}
	m, err := s.reencrypt(ctx, "tenant_secrets", "tenant_id", s.keys.openTenant, s.keys.sealTenant)
	return n + m, err
}

// reencrypt is ReencryptSecrets for one table of secrets whose owner (the
// endpoint or tenant the values are bound to) is in column owner.
func (s *Store) reencrypt(ctx context.Context, table, owner string,
	open func(owner, stored, keyID string) (string, error),
	seal func(owner, value string) (string, string, error)) (int, error) {
	total := 0
	for {
		n := 0
		err := s.inTx(ctx, func(tx querier) error {
			rows, err := tx.QueryContext(ctx, s.q(`SELECT `+owner+`, seq, key_id, value FROM {p}`+table+`
				WHERE key_id <> ? ORDER BY `+owner+`, seq LIMIT ?`), s.keys.current, s.opts.PruneBatch)
			if err != nil {
				return err
			}
			type row struct {
				owner, keyID, value string
				seq                 int
			}
			var batch []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.owner, &r.seq, &r.keyID, &r.value); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range batch {
				plain, err := open(r.owner, r.value, r.keyID)
				if err != nil {
					return err
				}
				stored, keyID, err := seal(r.owner, plain)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, s.q(`UPDATE {p}`+table+` SET value = ?, key_id = ? WHERE `+owner+` = ? AND seq = ?`),
					stored, keyID, r.owner, r.seq); err != nil {
					return err
				}
			}
			n = len(batch)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("sqlstore: reencrypt secrets: %w", err)
		}
		total += n
		if n < s.opts.PruneBatch {
			return total, nil
		}
	}
}
