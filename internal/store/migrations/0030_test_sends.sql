-- Test sends (テスト送信): one row per attempt, so a user (and the daily
-- keep-alive) can see when an account last worked and what the server said.
CREATE TABLE test_sends (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	account     TEXT NOT NULL,
	to_addr     TEXT NOT NULL,
	sent_at     TEXT NOT NULL,              -- RFC 3339, UTC
	ok          INTEGER NOT NULL,           -- 1: the server accepted the message
	reply       TEXT NOT NULL DEFAULT '',   -- the server's final reply, or the error shown to the user
	error_class TEXT NOT NULL DEFAULT ''    -- temporary | permanent | authentication | sign-in | ''
);
CREATE INDEX test_sends_by_account ON test_sends (account, sent_at);
