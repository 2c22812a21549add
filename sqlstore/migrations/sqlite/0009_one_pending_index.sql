-- outhook schema, version 9 (SQLite): nothing changes. On PostgreSQL this
-- version drops a redundant index of pending deliveries; on SQLite the two
-- are not redundant (deliveries_ordered_idx, on endpoint_id alone, keeps an
-- endpoint's pending rows in rowid order, the order of an Ordered endpoint's
-- head, and deliveries_pending_idx serves Stats), so both stay. The version
-- number is kept the same on both databases.
SELECT 1;
