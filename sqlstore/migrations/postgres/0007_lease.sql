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
