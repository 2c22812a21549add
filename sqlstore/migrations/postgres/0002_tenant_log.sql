-- The customer-facing delivery log (the portal) lists one tenant's
-- deliveries, newest first.
CREATE INDEX {prefix}deliveries_tenant_idx ON {prefix}deliveries (tenant_id, created_at DESC, id DESC);
