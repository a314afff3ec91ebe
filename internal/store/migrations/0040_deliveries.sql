-- Bulk deliveries (issue 5). One row per delivery, one per recipient row of
-- its list; the recipient's state is the journal a crash is resumed from.
CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL,
	account         TEXT NOT NULL,
	status          TEXT NOT NULL,              -- preparing | ready | running | paused | done | cancelled
	reason          TEXT NOT NULL DEFAULT '',   -- why it paused (sign-in, daily limit, pause, Ctrl-C)
	resume_after    INTEGER NOT NULL DEFAULT 0, -- unix ms: when the daily window opens again
	control         TEXT NOT NULL DEFAULT '',   -- '' | pause | cancel: asked by another process, polled by the runner
	source          TEXT NOT NULL,              -- the recipient list it was read from
	columns_json    TEXT NOT NULL,              -- the list's header
	template_json   TEXT NOT NULL,              -- subject, bodies, charset, attachment column
	options_json    TEXT NOT NULL DEFAULT '{}',
	total           INTEGER NOT NULL DEFAULT 0, -- data rows read
	duplicates      INTEGER NOT NULL DEFAULT 0, -- rows dropped as a repeat of an earlier address
	created_at      INTEGER NOT NULL,
	started_at      INTEGER NOT NULL DEFAULT 0,
	finished_at     INTEGER NOT NULL DEFAULT 0
);

-- Attachments every recipient gets, kept so that a resume sends the same
-- bytes even if the file changed on disk.
CREATE TABLE delivery_attachments (
	delivery_id  INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
	position     INTEGER NOT NULL,
	filename     TEXT NOT NULL,
	content_type TEXT NOT NULL,
	data         BLOB NOT NULL,
	PRIMARY KEY (delivery_id, position)
);

-- state: pending | sending | sent | failed | deferred | unknown | skipped | suppressed | cancelled
-- Only the unique index below exists: state changes (two per message) touch
-- no index, which keeps the journal cheap; the runner walks rows by id.
CREATE TABLE delivery_recipients (
	id           INTEGER PRIMARY KEY,
	delivery_id  INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
	row          INTEGER NOT NULL,           -- row number in the list (header = 1)
	email        TEXT NOT NULL,
	email_key    TEXT,                       -- lower-cased address; NULL for rows that are not valid
	fields       BLOB,                       -- the row's cells, length-prefixed
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_try     INTEGER NOT NULL DEFAULT 0, -- unix ms (deferred)
	reply        TEXT NOT NULL DEFAULT '',   -- server reply, or why the row was skipped
	updated_at   INTEGER NOT NULL DEFAULT 0  -- unix ms
);
CREATE UNIQUE INDEX delivery_recipients_key ON delivery_recipients(delivery_id, email_key);

-- Messages accepted per account and minute, across deliveries and restarts:
-- the rolling 24-hour limit is the sum of the last 1,440 minutes.
CREATE TABLE send_log (
	account  TEXT NOT NULL,
	minute   INTEGER NOT NULL, -- unix minutes
	count    INTEGER NOT NULL,
	PRIMARY KEY (account, minute)
) WITHOUT ROWID;

-- Addresses never mailed (unsubscribed, bounced, asked not to be).
CREATE TABLE suppressions (
	addr_key  TEXT PRIMARY KEY,
	addr      TEXT NOT NULL,
	reason    TEXT NOT NULL DEFAULT '',
	added_at  INTEGER NOT NULL
) WITHOUT ROWID;
