package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenAppliesMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := ms[len(ms)-1].version; v != want {
		t.Fatalf("schema version %d, want %d", v, want)
	}
	db.Close()

	// A second open must not re-run (and fail on) migrations already applied.
	db, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Fatalf("%d migrations recorded, want %d", n, len(ms))
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations(version, name) VALUES (9999, 'future')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, dir); err == nil {
		t.Fatal("a database from a newer bluemoon was opened without complaint")
	}
}

// A new data home's database has 8 KiB pages, in WAL mode; one made with
// 4 KiB pages (by an earlier bluemoon) opens as it is and keeps them.
func TestPageSizeAndJournalMode(t *testing.T) {
	ctx := context.Background()
	check := func(dir string, wantPage int) {
		t.Helper()
		db, err := Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var page int
		var mode string
		if err := db.QueryRow(`PRAGMA page_size`).Scan(&page); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if page != wantPage || mode != "wal" {
			t.Errorf("page size %d, journal mode %s; want %d, wal", page, mode, wantPage)
		}
		if _, err := db.Exec(`INSERT INTO suppressions(addr_key, addr, added_at) VALUES ('a@example.com', 'a@example.com', 0)`); err != nil {
			t.Fatal(err)
		}
	}
	check(t.TempDir(), 8192)

	old := t.TempDir()
	raw, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(old, FileName))+"?_pragma=page_size(4096)&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE earlier(x)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	check(old, 4096)
}
