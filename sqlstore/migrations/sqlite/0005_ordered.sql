-- outhook schema, version 5 (SQLite): ordered delivery per endpoint
-- (issue 11).
--
-- endpoints.ordered: 1 when the endpoint's deliveries go one at a time in
-- publish order. endpoints.ordered_lease: the delivery Claim last leased
-- for an ordered endpoint; while it is pending and its lease has not
-- expired, no other delivery of the endpoint is claimed.
--
-- Publish order on SQLite is the deliveries' rowid: one writer at a time
-- inserts them, each above every rowid in the table (VACUUM may renumber
-- rowids but keeps their order).
ALTER TABLE {prefix}endpoints ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE {prefix}endpoints ADD COLUMN ordered_lease TEXT;
-- An endpoint's earliest pending delivery: the index ends in the rowid.
CREATE INDEX {prefix}deliveries_ordered_idx ON {prefix}deliveries (endpoint_id) WHERE state = 'pending';
