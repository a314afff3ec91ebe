-- Settings that are neither accounts nor credentials (key/value, e.g. the
-- trusted signer fingerprint of the last import).
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
