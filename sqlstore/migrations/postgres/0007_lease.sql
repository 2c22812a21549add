-- outhook schema, version 7 (PostgreSQL): the lease in a column of its own.
--
-- A claim used to lease a delivery by moving due_at, an indexed column, to
-- the lease's end: every claim then added an entry to each of the
-- delivery's indexes, and with a large backlog those land on index pages
-- all over the table (random UUID keys), each dirtied and written to the
-- WAL in full, so a claim cost more the longer the queue. leased_until is
-- in no index: a claim now changes only unindexed columns, which
-- PostgreSQL writes in place (a HOT update) when the page has room, and
-- the fillfactor leaves room on pages written from now on.
ALTER TABLE {prefix}deliveries ADD COLUMN leased_until BIGINT;
ALTER TABLE {prefix}deliveries SET (fillfactor = 80);

-- lease_token is renamed claim_token, so that a process still running the
-- previous version (whose Claim reads due_at alone and would take a row
-- leased in leased_until) fails its claims and completions loudly during a
-- rolling upgrade, instead of sending a delivery that another process has
-- leased. Its Publish keeps working; its unrecorded attempts are sent again
-- when their leases end.
ALTER TABLE {prefix}deliveries RENAME COLUMN lease_token TO claim_token;
