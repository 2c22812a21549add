-- outhook schema, version 5 (PostgreSQL): ordered delivery per endpoint
-- (issue 11).
--
-- endpoints.ordered: 1 when the endpoint's deliveries go one at a time in
-- publish order. endpoints.ordered_lease: the delivery Claim last leased
-- for an ordered endpoint; while it is pending and its lease has not
-- expired, no other delivery of the endpoint is claimed.
ALTER TABLE {prefix}endpoints ADD COLUMN ordered SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE {prefix}endpoints ADD COLUMN ordered_lease TEXT;

-- deliveries.seq is publish order: taken from a sequence when the row is
-- inserted (a column default, so every insert gets it). Added without a
-- table rewrite: rows stored before this migration keep NULL, except the
-- pending ones, numbered here in (created_at, id) order. Publish order is
-- (seq NULLS FIRST, created_at, id).
ALTER TABLE {prefix}deliveries ADD COLUMN seq BIGINT;
CREATE SEQUENCE {prefix}deliveries_seq OWNED BY {prefix}deliveries.seq;
UPDATE {prefix}deliveries d SET seq = o.n
    FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM {prefix}deliveries WHERE state = 'pending') o
    WHERE d.id = o.id;
SELECT setval('{prefix}deliveries_seq', COALESCE((SELECT MAX(seq) FROM {prefix}deliveries), 0) + 1, false);
ALTER TABLE {prefix}deliveries ALTER COLUMN seq SET DEFAULT nextval('{prefix}deliveries_seq');
-- An endpoint's earliest pending delivery (Claim of an ordered endpoint,
-- Delivery.BlockedBy).
CREATE INDEX {prefix}deliveries_ordered_idx ON {prefix}deliveries (endpoint_id, seq NULLS FIRST, created_at, id) WHERE state = 'pending';
