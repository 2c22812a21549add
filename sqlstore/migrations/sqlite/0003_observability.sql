-- Observability (issue 10). {prefix} is replaced by Options.TablePrefix.

-- What Config.EventMetadata captured at Publish (a W3C traceparent, say),
-- as a JSON object of strings; NULL for none.
ALTER TABLE {prefix}events ADD COLUMN metadata TEXT;

-- Stats: the pending deliveries of each endpoint, and the oldest of them,
-- read from the index alone.
CREATE INDEX {prefix}deliveries_pending_idx ON {prefix}deliveries (endpoint_id, created_at) WHERE state = 'pending';
-- Stats: an endpoint's deliveries that failed in a window.
CREATE INDEX {prefix}deliveries_failed_idx ON {prefix}deliveries (endpoint_id, updated_at) WHERE state = 'failed';
-- Stats: an endpoint's attempts in a window, by success.
CREATE INDEX {prefix}attempts_endpoint_idx ON {prefix}attempts (endpoint_id, success, started_at);
-- Stats: the disabled endpoints, of a tenant or all.
CREATE INDEX {prefix}endpoints_disabled_idx ON {prefix}endpoints (tenant_id) WHERE disabled = 1;
