package schedule

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

// ErrNotFound is returned for a schedule name that does not exist.
var ErrNotFound = errors.New("no such schedule")

// ErrExists is returned by Add for a name already taken.
var ErrExists = errors.New("a schedule with this name exists")

// Store keeps schedules in SQLite (table schedules, one JSON document per
// row so the scheduler's state and the user's settings change together).
type Store struct{ DB *sql.DB }

const tsLayout = time.RFC3339Nano

// Add stores a new schedule.
func (st *Store) Add(ctx context.Context, s *Schedule) error {
	if err := CheckName(s.Name); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = time.Now().UTC()
	}
	doc, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = st.DB.ExecContext(ctx, `INSERT INTO schedules (name, doc, created_at) VALUES (?, ?, ?)`,
		s.Name, string(doc), s.CreatedAt.Format(tsLayout))
	if err != nil {
		if _, gerr := st.Get(ctx, s.Name); gerr == nil {
			return fmt.Errorf("schedule %q: %w (remove it first, or pick another name)", s.Name, ErrExists)
		}
		return fmt.Errorf("save schedule %s: %w", s.Name, err)
	}
	return nil
}

// Get returns the named schedule.
func (st *Store) Get(ctx context.Context, name string) (*Schedule, error) {
	return get(ctx, st.DB, name)
}

// get reads one schedule through the database or an open transaction.
func get(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (*Schedule, error) {
	var doc string
	err := q.QueryRowContext(ctx, `SELECT doc FROM schedules WHERE name = ?`, name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("schedule %q: %w (see 'bluemoon schedule list')", name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var s Schedule
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		return nil, fmt.Errorf("schedule %s is damaged: %w", name, err)
	}
	return &s, nil
}

// List returns every schedule by name.
func (st *Store) List(ctx context.Context) ([]*Schedule, error) {
	rows, err := st.DB.QueryContext(ctx, `SELECT name, doc FROM schedules ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Schedule
	for rows.Next() {
		var name, doc string
		if err := rows.Scan(&name, &doc); err != nil {
			return nil, err
		}
		var s Schedule
		if err := json.Unmarshal([]byte(doc), &s); err != nil {
			return nil, fmt.Errorf("schedule %s is damaged: %w", name, err)
		}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// Remove deletes the named schedule.
func (st *Store) Remove(ctx context.Context, name string) error {
	res, err := st.DB.ExecContext(ctx, `DELETE FROM schedules WHERE name = ?`, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("schedule %q: %w", name, ErrNotFound)
	}
	return nil
}

// Update applies change to the stored schedule in one transaction, so the
// scheduler recording a run and a user pausing the schedule from another
// process do not overwrite each other.
func (st *Store) Update(ctx context.Context, name string, change func(*Schedule) error) (*Schedule, error) {
	tx, err := st.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	s, err := get(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	if err := change(s); err != nil {
		return nil, err
	}
	out, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schedules SET doc = ? WHERE name = ?`, string(out), name); err != nil {
		return nil, err
	}
	return s, tx.Commit()
}

// SetPaused pauses or resumes a schedule. Resuming starts counting from now,
// so runs that fell due while it was paused are not "missed" ones.
func (st *Store) SetPaused(ctx context.Context, name string, paused bool, now time.Time) (*Schedule, error) {
	return st.Update(ctx, name, func(s *Schedule) error {
		if s.Paused && !paused && now.After(s.base()) {
			s.LastDue = now.UTC()
		}
		s.Paused = paused
		return nil
	})
}

// Edit replaces the settings of the named schedule with in's (what it
// runs, when, its zone, missed policy, preflight, alert), keeping its
// name, kind, pause and history. When the timing changes, counting starts
// again at now: occurrences of the old timing are neither run nor called
// missed, and a preflight done for the old next run does not stand for the
// new one.
func (st *Store) Edit(ctx context.Context, name string, in *Schedule, now time.Time) (*Schedule, error) {
	return st.Update(ctx, name, func(s *Schedule) error {
		retimed := s.Cron != in.Cron || !s.At.Equal(in.At) || s.TZ != in.TZ
		if retimed || s.Target != in.Target {
			s.PreflightFor = time.Time{}
		}
		s.Target, s.SendTest, s.Cron, s.At, s.TZ = in.Target, in.SendTest, in.Cron, in.At, in.TZ
		s.Missed, s.Preflight, s.Alert = in.Missed, in.Preflight, in.Alert
		if retimed {
			s.LastDue = now.UTC()
		}
		return s.Validate()
	})
}

// InterruptedMessage is a schedule's last message for a run that stopped
// with the scheduler before its delivery was stored.
const InterruptedMessage = "stopped with the scheduler before it sent anything; the scheduler runs it when it starts next"

// MarkInterrupted records that the run of name's occurrence due stopped
// with the scheduler before its delivery was stored (so it sent nothing,
// and no resume will go on with it): the next scheduler runs that
// occurrence (Scheduler.tickOne). The job records it itself, for a
// scheduler that died cannot; the scheduler does too, for a job it never
// started.
func (st *Store) MarkInterrupted(ctx context.Context, name string, due, now time.Time) error {
	_, err := st.Update(ctx, name, func(s *Schedule) error {
		s.LastRunAt, s.LastExit = now.UTC(), exitcode.Paused
		s.markInterrupted(due)
		return nil
	})
	return err
}

// markInterrupted records on s that the run of its occurrence due stopped
// with the scheduler before it sent anything: the last run says so, and
// the next scheduler runs the latest such occurrence.
func (s *Schedule) markInterrupted(due time.Time) {
	if due.After(s.Interrupted) {
		s.Interrupted = due.UTC()
	}
	s.LastInterrupted, s.LastMessage, s.LastCause, s.LastDelivery = true, InterruptedMessage, "", 0
}

// takeInterrupted clears s's interrupted occurrence if it is still due
// (not one a later stop recorded meanwhile): it is being run, or a later
// occurrence took its place.
func (s *Schedule) takeInterrupted(due time.Time) {
	if s.Interrupted.Equal(due) {
		s.Interrupted = time.Time{}
	}
}
