-- outhook schema, version 9 (PostgreSQL): less written per delivery.
--
-- One partial index of pending deliveries per endpoint instead of two:
-- deliveries_pending_idx (endpoint_id, created_at) WHERE state = 'pending'
-- (version 3, for Stats) and deliveries_ordered_idx (endpoint_id, seq NULLS
-- FIRST, created_at, id) WHERE state = 'pending' (version 5, for the head
-- of an Ordered endpoint) hold the same rows under the same leading column,
-- and the second has every column Stats reads (a count and the oldest
-- created_at per endpoint, which reads all of an endpoint's pending rows
-- either way). Every published delivery added an entry to both; it now
-- adds one.
DROP INDEX IF EXISTS {prefix}deliveries_pending_idx;

-- Room on each page for a claim to lease every row on it in place. A
-- claim writes a new version of each row it leases (claim_token and
-- leased_until, version 7, are in no index, so the update can be HOT), but
-- only if the new version fits on the row's own page. Claims take rows in
-- due order, so they lease a page's rows together: with 20 % of the page
-- free (version 7) about one row in five fitted, and the other four went
-- to other pages with a new entry in each of the table's indexes. A claimed
-- row is about 80 bytes longer than a pending one, so a page needs a little
-- more than half of itself free for all of them. The deliveries' heap takes
-- about twice the space; a claim writes about a third of the WAL it did.
-- Pages written before this version keep their old fill.
ALTER TABLE {prefix}deliveries SET (fillfactor = 45);
