-- outhook schema, version 6 (SQLite): an endpoint's own rate limit
-- (webhook.Endpoint.RateLimit): attempts a second and burst; 0 and 0 mean
-- none of its own (Config.RateLimit applies). Configuration only: the
-- token buckets live in each Dispatcher.
ALTER TABLE {prefix}endpoints ADD COLUMN rate_per_second REAL NOT NULL DEFAULT 0;
ALTER TABLE {prefix}endpoints ADD COLUMN rate_burst INTEGER NOT NULL DEFAULT 0;
