-- outhook schema, version 7 (SQLite): the lease in a column of its own
-- (leased_until, in no index), so a claim rewrites no index entry; see the
-- PostgreSQL migration of the same version.
ALTER TABLE {prefix}deliveries ADD COLUMN leased_until BIGINT;
