package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Summary is one delivery as `deliveries list` and `show` print it.
type Summary struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Account     string    `json:"account"`
	Status      string    `json:"status"`
	Cause       string    `json:"cause,omitempty"` // why it stopped short, a Cause… ("" if it did not, or before causes were kept)
	Reason      string    `json:"reason,omitempty"`
	ResumeAfter time.Time `json:"resume_after,omitzero"`
	Source      string    `json:"source"`
	Subject     string    `json:"subject"`
	Rows        int       `json:"rows"`
	Duplicates  int       `json:"duplicates"`
	NoChunking  bool      `json:"no_chunking,omitempty"` // sent with DATA, never BDAT (send --no-chunking)
	Counts      Counts    `json:"counts"`
	// Rate is messages a second since the run began, as the process
	// running the delivery last stamped it (0 when not running).
	Rate       float64   `json:"rate,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`

	stamped string // the running process's stampedProgress, JSON
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// StatusInterrupted is what Get and List report for a delivery stored as
// running whose process has stopped stamping its heartbeat: it was killed
// or crashed, or the machine went down. 'deliveries resume' goes on with
// it (its rows left sending become unknown).
const StatusInterrupted = "interrupted"

// InterruptedAfter is how long a running delivery may go without a
// heartbeat (stamped every second by the process sending it) before it
// counts as interrupted.
var InterruptedAfter = 15 * time.Second

// interruptedReason explains StatusInterrupted when the run left no reason.
const interruptedReason = "the process that was sending it stopped before it finished (killed, crashed, or the computer went down)"

// Get returns delivery id with its counts.
func Get(ctx context.Context, db *sql.DB, id int64) (*Summary, error) {
	s, err := scanSummary(db.QueryRowContext(ctx, summarySQL+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noDelivery(id)
	}
	if err != nil {
		return nil, err
	}
	return s, fillCounts(ctx, db, s)
}

// ErrNotFound is matched (errors.Is) by the error for a delivery ID that
// does not exist.
var ErrNotFound = errors.New("no such delivery")

// notFoundErr is the usage error (exit 2) for a missing delivery, matching
// ErrNotFound without putting its words into the message.
type notFoundErr struct{ usageErr }

func (e *notFoundErr) Is(target error) bool { return target == ErrNotFound }

func noDelivery(id int64) error {
	return &notFoundErr{usageErr{fmt.Errorf("no delivery %d (see 'bluemoon deliveries list')", id)}}
}

const summarySQL = `SELECT id, name, account, status, cause, reason, resume_after, source, COALESCE(json_extract(template_json, '$.subject'), ''),
	total, duplicates, COALESCE(json_extract(options_json, '$.no_chunking'), 0), created_at, started_at, finished_at, heartbeat, progress FROM deliveries`

func scanSummary(row interface{ Scan(...any) error }) (*Summary, error) {
	var s Summary
	var resume, created, started, finished, heartbeat int64
	if err := row.Scan(&s.ID, &s.Name, &s.Account, &s.Status, &s.Cause, &s.Reason, &resume, &s.Source, &s.Subject,
		&s.Rows, &s.Duplicates, &s.NoChunking, &created, &started, &finished, &heartbeat, &s.stamped); err != nil {
		return nil, err
	}
	s.ResumeAfter, s.CreatedAt, s.StartedAt, s.FinishedAt = msTime(resume), msTime(created), msTime(started), msTime(finished)
	if s.Status == StatusRunning && interrupted(heartbeat, time.Now()) {
		s.Status = StatusInterrupted
		if s.Reason == "" {
			s.Reason = interruptedReason
		}
	}
	// The stamp is the rows' counts when Prepare left it on a delivery
	// never run, a second old at most from a live run, or exact from a run
	// that ended (see finalStamp) or a cancel; otherwise the rows changed
	// since.
	sp, ok := readStamp(s.stamped)
	trusted := ok && (s.Status == StatusRunning || s.Status == StatusReady && started == 0 ||
		sp.Final && (s.Status == StatusDone || s.Status == StatusCancelled || s.Status == StatusPaused))
	if !trusted {
		s.stamped = ""
	}
	return &s, nil
}

// stampedProgress is what Prepare stamps on a delivery it leaves ready,
// and a running delivery's process with its heartbeat, for the first run
// and other processes to use instead of counting every row.
type stampedProgress struct {
	Counts Counts  `json:"counts"`
	Rate   float64 `json:"rate"`
	Final  bool    `json:"final,omitempty"` // written as the run ended (finalStamp)
}

// readStamp reads a stamp; false for none (or a damaged one).
func readStamp(stamp string) (stampedProgress, bool) {
	var sp stampedProgress
	return sp, stamp != "" && json.Unmarshal([]byte(stamp), &sp) == nil
}

// fillCounts gives s its counts: the stamped ones when they can be trusted
// (see scanSummary), else counted from the rows.
func fillCounts(ctx context.Context, db *sql.DB, s *Summary) error {
	if sp, ok := readStamp(s.stamped); ok {
		s.Counts, s.Rate = sp.Counts, sp.Rate
		return nil
	}
	var err error
	s.Counts, err = countStates(ctx, db, s.ID)
	return err
}

// interrupted reports whether a delivery stored as running, last stamped
// at heartbeat (unix ms), has no live process any more.
func interrupted(heartbeat int64, now time.Time) bool {
	return now.Sub(time.UnixMilli(heartbeat)) > InterruptedAfter
}

// List returns every delivery (newest first) with its counts, leaving
// out those still being prepared and removing those a killed preflight
// left behind.
func List(ctx context.Context, db *sql.DB) ([]*Summary, error) {
	if _, err := RemoveAbandoned(ctx, db); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, summarySQL+` WHERE status != 'preparing' ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	var out []*Summary
	for rows.Next() {
		s, err := scanSummary(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, s := range out {
		if err := fillCounts(ctx, db, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// IDsByName returns the IDs of the deliveries named name, newest first
// (names need not be unique).
func IDsByName(ctx context.Context, db *sql.DB, name string) ([]int64, error) {
	return queryIDs(ctx, db, `SELECT id FROM deliveries WHERE name = ? AND status != 'preparing' ORDER BY id DESC`, name)
}

// Unfinished returns the IDs of the account's deliveries that are not
// done or cancelled (being prepared, ready, running, paused,
// interrupted), oldest first; db is a *sql.DB or a *sql.Tx. A preparing
// delivery whose preflight was killed (see RemoveAbandoned) does not count.
func Unfinished(ctx context.Context, db querier, account string) ([]int64, error) {
	ids, err := queryIDs(ctx, db, `SELECT id FROM deliveries WHERE account = ? AND (status IN (?, ?, ?) OR status = ? AND heartbeat >= ?) ORDER BY id`,
		account, StatusReady, StatusRunning, StatusPaused, statusPreparing, abandonedBefore())
	if err != nil {
		return nil, fmt.Errorf("deliveries of account %s: %w", account, err)
	}
	return ids, nil
}

// dueForResume is the condition on a delivery the scheduler resumes now
// (?, unix ms): paused by a daily limit whose window has reopened, or
// stopped with the scheduler that ran it; either, when a resume failed
// for a passing reason, once its retry time has come.
const dueForResume = `status = 'paused' AND cause IN ` + resumedBySchedulerSQL + ` AND resume_after > 0 AND resume_after <= ?`

// DueForResume returns the IDs of the deliveries the scheduler resumes
// now (see ResumedByScheduler), oldest first.
func DueForResume(ctx context.Context, db *sql.DB, now time.Time) ([]int64, error) {
	ids, err := queryIDs(ctx, db, `SELECT id FROM deliveries WHERE `+dueForResume+` ORDER BY id`, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("deliveries the scheduler resumes: %w", err)
	}
	return ids, nil
}

// Due is a delivery the scheduler resumes, as StillDue found it.
type Due struct {
	Cause  string // CauseDailyLimit or CauseSchedulerStopped
	Reason string
	// FailingSince: when its resumes began failing for a passing reason
	// (zero while they do not).
	FailingSince time.Time
	// At is the time it was due at (its resume_after): after a failed
	// resume, when the retry was to be.
	At time.Time
}

// StillDue reports whether delivery id is still due for the scheduler's
// resume by now, and why: what DueForResume listed may have been paused
// by hand, cancelled or resumed by someone else since.
func StillDue(ctx context.Context, db *sql.DB, id int64, now time.Time) (*Due, error) {
	d, err := scanDue(db.QueryRowContext(ctx, `SELECT `+dueColumns+` FROM deliveries WHERE id = ? AND `+dueForResume, id, now.UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return d, err
}

// AllStillDue is StillDue of every delivery at once (a listing), by ID:
// the same test, one query.
func AllStillDue(ctx context.Context, db *sql.DB, now time.Time) (map[int64]*Due, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, `+dueColumns+` FROM deliveries WHERE `+dueForResume, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	all := map[int64]*Due{}
	for rows.Next() {
		var id int64
		d, err := scanDue(rows, &id)
		if err != nil {
			return nil, err
		}
		all[id] = d
	}
	return all, rows.Err()
}

// dueColumns are what scanDue reads, in its order.
const dueColumns = `cause, reason, resume_failing_since, resume_after`

// scanDue reads a Due from the row (dueColumns, after the columns first
// receives).
func scanDue(row interface{ Scan(...any) error }, first ...any) (*Due, error) {
	var d Due
	var since, at int64
	if err := row.Scan(append(first, &d.Cause, &d.Reason, &since, &at)...); err != nil {
		return nil, err
	}
	if since > 0 {
		d.FailingSince = time.UnixMilli(since)
	}
	d.At = time.UnixMilli(at)
	return &d, nil
}

// StopResuming turns delivery id's pause for the scheduler, if it still
// is one, into a pause for cause with reason: the scheduler's resume of it
// failed (its account removed, a sign-in needed, a server unreachable for
// too long), and it must not try again at every look, alerting each time.
// A pause for CauseConnect, which that resume's run just made (the caller
// holds the delivery's lock), takes the reason too.
// Its rows are not touched, so a final stamp still holds. It reports
// whether it changed the delivery.
func StopResuming(ctx context.Context, db *sql.DB, id int64, cause, reason string) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE deliveries SET cause = ?, reason = ?, resume_after = 0, resume_failing_since = 0
		WHERE id = ? AND status = 'paused' AND cause IN `+pausedForSchedulerSQL, cause, reason, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// RetryResume leaves delivery id due again for the scheduler at at, paused
// for cause (what it was resumed from) with reason, its resumes failing
// since since: one of them failed for a reason that may pass by itself.
// A resume whose run could not reach the server leaves it paused for
// CauseConnect: that is put back too. Nothing else is changed (paused by
// hand or cancelled meanwhile, it stays so: a person's pause of the
// CauseConnect pause made it by hand, see RequestPause).
func RetryResume(ctx context.Context, db *sql.DB, id int64, cause, reason string, since, at time.Time) error {
	_, err := db.ExecContext(ctx, `UPDATE deliveries SET cause = ?, reason = ?, resume_after = ?, resume_failing_since = ?
		WHERE id = ? AND status = 'paused' AND cause IN `+pausedForSchedulerSQL, cause, reason, at.UnixMilli(), since.UnixMilli(), id)
	return err
}

// ResumeNotFailing clears the record of delivery id's failing resumes:
// the last one did not fail (it sent, or paused again for the limit).
func ResumeNotFailing(ctx context.Context, db *sql.DB, id int64) error {
	_, err := db.ExecContext(ctx, `UPDATE deliveries SET resume_failing_since = 0 WHERE id = ? AND resume_failing_since != 0`, id)
	return err
}

func queryIDs(ctx context.Context, db querier, query string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// AlreadyError is returned by RequestPause of a paused delivery and
// RequestCancel of a cancelled one: nothing was changed, as what was asked
// is in effect already. A face takes it for success.
type AlreadyError struct {
	ID     int64
	Status string // StatusPaused, StatusCancelled
}

func (e *AlreadyError) Error() string {
	return fmt.Sprintf("delivery %d is already %s", e.ID, e.Status)
}

// RequestPause asks the process running delivery id to pause (it polls
// the flag); a delivery that is not running is simply marked paused. A
// paused one is left as it is (*AlreadyError), except one the scheduler
// may resume (pausedForScheduler), which becomes paused by hand: a
// person's pause ends the scheduler's resumes of it. A done or cancelled
// one is refused.
func RequestPause(ctx context.Context, db *sql.DB, id int64) (running bool, err error) {
	return request(ctx, db, id, "pause")
}

// RequestCancel asks the running process to cancel delivery id; one that
// is not running is cancelled at once (its unsent rows become cancelled).
// A cancelled one is left as it is (*AlreadyError); a done one is refused.
func RequestCancel(ctx context.Context, db *sql.DB, id int64) (running bool, err error) {
	return request(ctx, db, id, "cancel")
}

// requestRead, when set (by tests), is called with what request read,
// before it acts on it.
var requestRead func(*Summary)

func request(ctx context.Context, db *sql.DB, id int64, what string) (bool, error) {
	for try := 0; ; try++ {
		running, err := requestOnce(ctx, db, id, what)
		if !errors.Is(err, errStoppedMeanwhile) || try == 3 {
			return running, err
		}
	}
}

// errStoppedMeanwhile: the run request found stopped as it was asking it
// to stop; request looks again.
var errStoppedMeanwhile = errors.New("the delivery's run ended as it was asked to stop")

func requestOnce(ctx context.Context, db *sql.DB, id int64, what string) (bool, error) {
	s, err := Get(ctx, db, id)
	if err != nil {
		return false, err
	}
	if requestRead != nil {
		requestRead(s)
	}
	switch {
	case what == "pause" && s.Status == StatusPaused && !pausedForScheduler(s.Cause), what == "cancel" && s.Status == StatusCancelled:
		// Asked again: what was asked is in effect, and a paused
		// delivery keeps the cause it paused for. One the scheduler
		// may resume (paused by a daily limit, stopped with the
		// scheduler, or its resume's run paused for a server it could
		// not reach, retried by the scheduler) is paused by hand below:
		// a pause asked for holds.
		return false, &AlreadyError{ID: id, Status: s.Status}
	case s.Status == StatusDone:
		return false, &usageErr{fmt.Errorf("delivery %d is done (every recipient has an outcome): there is nothing to %s; "+
			"'bluemoon deliveries report %d' lists the outcomes", id, what, id)}
	case s.Status == StatusCancelled:
		return false, &usageErr{fmt.Errorf("delivery %d is cancelled: there is nothing to %s (a cancelled delivery is never sent on)", id, what)}
	}
	switch s.Status {
	case statusPreparing:
		return false, &usageErr{fmt.Errorf("delivery %d is still being prepared (its preflight has not finished)", id)}
	case StatusRunning:
		// Only while it runs: a run that ended meanwhile (paused by the
		// daily limit, say) never reads the flag, and its next run clears
		// it; the request is made again on the delivery as it is now.
		// A cancel asked already stays asked: a pause after it would
		// leave the rows to be sent by the next resume.
		res, err := db.ExecContext(ctx, `UPDATE deliveries SET control = CASE control WHEN 'cancel' THEN control ELSE ? END WHERE id = ? AND status = ?`, what, id, StatusRunning)
		if err != nil {
			return true, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return true, err
		} else if n == 0 {
			return false, errStoppedMeanwhile
		}
		return true, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if s.Status == StatusInterrupted {
		// Its process is gone: what it left sending is unknown now, as a
		// resume would find. The flag also reaches a process that was
		// only stalled, should it wake up.
		if _, err := markUnknown(ctx, tx, id); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET control = ? WHERE id = ?`, what, id); err != nil {
			return false, err
		}
	}
	if what == "cancel" {
		if _, err := cancelRows(ctx, tx, id); err != nil {
			return false, err
		}
	} else if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'paused', cause = 'by_hand', reason = 'paused by ''bluemoon deliveries pause''',
		resume_after = 0, resume_failing_since = 0 WHERE id = ?`, id); err != nil {
		return false, err
	}
	return false, tx.Commit()
}

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execQuerier is a *sql.DB or *sql.Tx, read from too.
type execQuerier interface {
	execer
	querier
}

// cancelRows cancels delivery id: recipients not yet sent (pending,
// deferred) are cancelled, never to be sent. Unknown ones stay unknown:
// the server may have their message, and the report must not say it was
// never sent.
// It returns the rows' counts after, counted once and stamped on the
// delivery as final, so that listing it does not count them again.
func cancelRows(ctx context.Context, db execQuerier, id int64) (Counts, error) {
	now := time.Now().UnixMilli()
	if _, err := db.ExecContext(ctx, `UPDATE delivery_recipients SET state = 'cancelled', updated_at = ?
		WHERE delivery_id = ? AND state IN ('pending', 'deferred')`, now, id); err != nil {
		return Counts{}, err
	}
	c, err := countStates(ctx, db, id)
	if err != nil {
		return c, err
	}
	stamp, err := finalStamp(c)
	if err != nil {
		return c, err
	}
	_, err = db.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled', cause = 'cancelled', reason = 'cancelled', control = '', finished_at = ?, progress = ? WHERE id = ?`, now, stamp, id)
	return c, err
}

// Recovery is what Recover found and did.
type Recovery struct {
	Unknown []Outcomes // rows that were with the server when the last run stopped
	Resent  bool       // they were put back to be sent again
}

// Recover prepares delivery id for another run after a crash: rows still
// `sending` — a previous process died between marking them and recording
// the server's answer — become `unknown` and are returned. With
// resendUnknown, every unknown row (from this crash or an earlier one) is
// put back to pending. The caller must hold the delivery's run lock, so
// that no live process owns those `sending` rows.
func Recover(ctx context.Context, db *sql.DB, id int64, resendUnknown bool) (*Recovery, error) {
	// Status and control only: Get would also count every row's state.
	var status, control string
	err := db.QueryRowContext(ctx, `SELECT status, control FROM deliveries WHERE id = ?`, id).Scan(&status, &control)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noDelivery(id)
	}
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	changed, err := markUnknown(ctx, db, id)
	if err != nil {
		return nil, err
	}
	// A run that died before it saw 'deliveries cancel' leaves the request
	// behind: honour it, rather than let resume send what was cancelled.
	if status == StatusRunning && control == "cancel" {
		if _, err := cancelRows(ctx, db, id); err != nil {
			return nil, err
		}
		status = StatusCancelled
	}
	if status == StatusCancelled && resendUnknown {
		return nil, &usageErr{fmt.Errorf("delivery %d is cancelled: nothing more is sent", id)}
	}
	rec := &Recovery{}
	err = report(ctx, db, id, stateUnknown, func(o Outcomes) error {
		rec.Unknown = append(rec.Unknown, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if resendUnknown && len(rec.Unknown) > 0 {
		if _, err := db.ExecContext(ctx, `UPDATE delivery_recipients SET state = 'pending', reply = '', updated_at = ?
			WHERE delivery_id = ? AND state = 'unknown'`, now, id); err != nil {
			return nil, err
		}
		rec.Resent, changed = true, true
	}
	if changed {
		if err := rowsPutBack(ctx, db, id); err != nil {
			return nil, err
		}
	}
	// A run that died left the status 'running'.
	if _, err := db.ExecContext(ctx, `UPDATE deliveries SET status = 'paused', control = '' WHERE id = ? AND status = 'running'`, id); err != nil {
		return nil, err
	}
	return rec, nil
}

// rowsPutBack records that delivery id's rows changed outside a run
// (Recover, ReopenFailed): a finished delivery opens again for them, and
// the counts its last run stamped no longer hold.
func rowsPutBack(ctx context.Context, db execer, id int64) error {
	_, err := db.ExecContext(ctx, `UPDATE deliveries SET status = CASE status WHEN 'done' THEN 'paused' ELSE status END,
		finished_at = CASE status WHEN 'done' THEN 0 ELSE finished_at END, progress = '' WHERE id = ?`, id)
	return err
}

// markUnknown turns the rows a dead run left sending into unknown.
// It reports whether there were any.
func markUnknown(ctx context.Context, db execer, id int64) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE delivery_recipients SET state = 'unknown', updated_at = ?,
		reply = 'the program stopped while this message was with the server: it may or may not have been sent'
		WHERE delivery_id = ? AND state = 'sending'`, time.Now().UnixMilli(), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Outcomes is one recipient's line of the report.
type Outcomes struct {
	Row      int       `json:"row"`
	Email    string    `json:"email"`
	State    string    `json:"state"`
	Attempts int       `json:"attempts"`
	Reply    string    `json:"reply,omitempty"`
	NextTry  time.Time `json:"next_try,omitzero"`
	At       time.Time `json:"at,omitzero"`
	Via      string    `json:"via,omitempty"` // smtp, graph or gmail-api; "" when never handed over
}

// Report calls fn for every row of delivery id's list, in list order,
// streaming (a report of a million rows is not held in memory).
func Report(ctx context.Context, db *sql.DB, id int64, fn func(Outcomes) error) error {
	return report(ctx, db, id, "", fn)
}

// report is Report limited to the rows in state (all rows when "").
// Filtering in SQL keeps a resume of a million-row delivery from decoding
// every row in Go to find the few unknown ones.
func report(ctx context.Context, db *sql.DB, id int64, state string, fn func(Outcomes) error) error {
	rows, err := db.QueryContext(ctx, `SELECT row, email, state, attempts, reply, next_try, updated_at, via
		FROM delivery_recipients WHERE id > 0 AND +delivery_id = ? AND (? = '' OR state = ?) ORDER BY id`, id, state, state)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var o Outcomes
		var next, at int64
		if err := rows.Scan(&o.Row, &o.Email, &o.State, &o.Attempts, &o.Reply, &next, &at, &o.Via); err != nil {
			return err
		}
		if o.State == stateDeferred {
			o.NextTry = msTime(next)
		}
		o.At = msTime(at)
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}
