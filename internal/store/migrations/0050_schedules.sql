-- Timed jobs for `bluemoon serve`: scheduled deliveries and keep-alives.
-- doc is the schedule as JSON (settings and the scheduler's state: the last
-- occurrence handled, the last preflight, the last result).
CREATE TABLE schedules (
	name       TEXT PRIMARY KEY,
	doc        TEXT NOT NULL,
	created_at TEXT NOT NULL
);
