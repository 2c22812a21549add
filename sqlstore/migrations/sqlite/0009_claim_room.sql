-- outhook schema, version 9 (SQLite): nothing changes. On PostgreSQL this
-- version drops a redundant index of pending deliveries and leaves room on
-- each page for claims to update rows in place. On SQLite the two indexes
-- are not redundant (deliveries_ordered_idx, on endpoint_id alone, keeps an
-- endpoint's pending rows in rowid order, the order of an Ordered endpoint's
-- head, and deliveries_pending_idx serves Stats), and pages have no
-- fillfactor, so both stay as they are. The version number is kept the same
-- on both databases.
SELECT 1;
