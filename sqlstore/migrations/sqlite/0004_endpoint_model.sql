-- outhook schema, version 4 (SQLite): how an endpoint is signed, the
-- customer's own on/off switch, and secrets per tenant.
--
-- signing: '' (the endpoint's own secrets), 'tenant' (its tenant's, from
-- tenant_secrets) or 'none' (unsigned). inactive: 1 while the customer has
-- switched the endpoint off; its pending deliveries then wait, parked by
-- Claim with due_at at the largest INTEGER until it is active again.
ALTER TABLE {prefix}endpoints ADD COLUMN signing TEXT NOT NULL DEFAULT '';
ALTER TABLE {prefix}endpoints ADD COLUMN inactive INTEGER NOT NULL DEFAULT 0;

-- A tenant's secrets, like secrets (encrypted the same way when
-- Options.EncryptionKeys are set), keyed by tenant.
CREATE TABLE {prefix}tenant_secrets (
    tenant_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    key_id     TEXT NOT NULL DEFAULT '',
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (tenant_id, seq)
);
