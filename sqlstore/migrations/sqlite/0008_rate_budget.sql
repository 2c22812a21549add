-- outhook schema, version 8 (SQLite): the rate-limit bucket of each endpoint, shared
-- by every Dispatcher claiming from this database (webhook.SharedRateStore).
-- rate_tat is when the bucket is full again, in Unix nanoseconds (GCRA's
-- theoretical arrival time; 0: full). Claim advances it, under the
-- endpoint's row lock, for each delivery of a rate-limited endpoint it
-- hands out; unlimited endpoints' rows are never written by a claim.
ALTER TABLE {prefix}endpoints ADD COLUMN rate_tat BIGINT NOT NULL DEFAULT 0;
