-- outhook schema, version 9 (SQLite): nothing changes. On PostgreSQL this
-- version leaves room on each page of deliveries for claims to update rows
-- in place (fillfactor); SQLite pages have no such setting. The version
-- number is kept the same on both databases.
SELECT 1;
