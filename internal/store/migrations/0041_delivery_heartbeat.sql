-- While a delivery is 'preparing' (hidden, being imported by preflight) its
-- process stamps heartbeat (unix ms) at every commit. A process killed
-- during preflight stops stamping: a 'preparing' delivery whose heartbeat
-- is old is a leftover, deleted by the next preflight or 'deliveries list'.
-- A time stamp rather than a pid or lock file: it means the same on every
-- OS and to every process sharing the database.
ALTER TABLE deliveries ADD COLUMN heartbeat INTEGER NOT NULL DEFAULT 0;
