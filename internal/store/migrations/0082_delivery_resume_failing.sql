-- When the scheduler's resumes of a delivery (due after a daily limit, or
-- stopped with the scheduler) began failing for a reason that may pass by
-- itself (the network, the server unreachable or busy), unix ms; 0 while
-- they do not fail. Kept in the database so that a serve restarted, or a
-- `serve --once` run by cron each minute, still knows how long they have
-- failed, and gives up (one alert) after a bounded time, not never.
ALTER TABLE deliveries ADD COLUMN resume_failing_since INTEGER NOT NULL DEFAULT 0;
