// Package store opens bluemoon's SQLite database and keeps its schema
// current with numbered migrations.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // pure Go: no cgo, so Windows and macOS cross-compile
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// FileName is the database file inside the data home.
const FileName = "bluemoon.db"

// DB is the application database.
type DB struct {
	*sql.DB
	Path string
	DSN  string // what Open opened: a second handle on the file uses it
}

// Open opens (creating if needed) the database in dir and applies every
// migration it has not seen yet.
func Open(ctx context.Context, dir string) (*DB, error) {
	path := filepath.Join(dir, FileName)
	// WAL lets a report or `deliveries list` read while a delivery writes;
	// busy_timeout makes a second process wait for the lock instead of failing.
	// A new database gets 8 KiB pages: a delivery's journal writes a few
	// pages a transaction whatever their size, and each costs system calls
	// (two to append it to the WAL, more to checkpoint and read it back),
	// so 8 KiB pages cut them by a third for the same bytes; an existing
	// database keeps its page size (the pragma is then a no-op). The size
	// must be set before WAL mode writes the first page: the driver runs
	// the _pragma list in alphabetical order, so WAL mode is asked with its
	// own key, which the driver applies after the list.
	dsn := "file:" + filepath.ToSlash(path) +
		"?_pragma=busy_timeout(10000)&_pragma=page_size(8192)&_pragma=foreign_keys(1)&_journal_mode=WAL&_pragma=synchronous(NORMAL)"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{DB: sqldb, Path: path, DSN: dsn}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Account settings are nobody else's business; the -wal and -shm files
	// SQLite adds take the database file's mode.
	if err := os.Chmod(path, 0o600); err != nil && runtime.GOOS != "windows" {
		sqldb.Close()
		return nil, fmt.Errorf("restrict database %s to its owner: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", name)
		}
		body, err := fs.ReadFile(migrationFS, "migrations/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`); err != nil {
		return fmt.Errorf("prepare migrations in %s: %w", db.Path, err)
	}
	applied := map[int]bool{}
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	maxApplied := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
		maxApplied = max(maxApplied, v)
	}
	rows.Close()
	if len(ms) > 0 && maxApplied > ms[len(ms)-1].version {
		return fmt.Errorf("database %s was written by a newer bluemoon (schema %d, this program knows %d): upgrade bluemoon",
			db.Path, maxApplied, ms[len(ms)-1].version)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// SchemaVersion reports the highest migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return int(v.Int64), err
}
