-- Imported credential files (the OAuth settings; the client secret is kept
-- encrypted in the secrets store, never in this table).
CREATE TABLE credentials (
	name        TEXT PRIMARY KEY,
	provider    TEXT NOT NULL,
	config_json TEXT NOT NULL,      -- provider.Config without client_secret
	signer      TEXT NOT NULL,      -- Ed25519 fingerprint of the file's signer
	imported_at TEXT NOT NULL
);

-- Sender accounts (the guide's 環境の設定と管理 › メール送信).
CREATE TABLE accounts (
	name            TEXT PRIMARY KEY,
	from_addr       TEXT NOT NULL,
	from_name       TEXT NOT NULL DEFAULT '',
	smtp_host       TEXT NOT NULL,
	smtp_port       INTEGER NOT NULL,
	security        TEXT NOT NULL,   -- tls | starttls | none
	auth            TEXT NOT NULL,   -- xoauth2 | plain | login | none
	credentials     TEXT NOT NULL DEFAULT '',
	username        TEXT NOT NULL DEFAULT '',
	client_cert     TEXT NOT NULL DEFAULT '',
	client_key      TEXT NOT NULL DEFAULT '',
	ca_file         TEXT NOT NULL DEFAULT '',
	confirm_reauth  INTEGER NOT NULL DEFAULT 1,
	limits_json     TEXT NOT NULL DEFAULT '{}',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);
