-- How an account hands its messages over (issue 12): smtp, or a provider's
-- HTTPS API (graph, gmail-api) for tenants that keep SMTP AUTH off.
ALTER TABLE accounts ADD COLUMN via TEXT NOT NULL DEFAULT 'smtp';
