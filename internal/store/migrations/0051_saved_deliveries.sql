-- Saved deliveries (`bluemoon deliveries save NAME …`, run with `bluemoon run NAME`).
-- doc is the delivery as JSON: account, list and template paths, options, alerts.
CREATE TABLE saved_deliveries (
	name       TEXT PRIMARY KEY,
	doc        TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
