-- outhook schema, version 7 (SQLite): the lease in a column of its own
-- (leased_until, in no index), so a claim rewrites no index entry; see the
-- PostgreSQL migration of the same version.
ALTER TABLE {prefix}deliveries ADD COLUMN leased_until BIGINT;

-- lease_token is renamed claim_token, so that a process still running the
-- previous version fails its claims loudly during a rolling upgrade rather
-- than send a delivery another process has leased.
ALTER TABLE {prefix}deliveries RENAME COLUMN lease_token TO claim_token;
