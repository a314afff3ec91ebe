package delivery

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/merge"
)

// The three goroutine kinds of a run:
//   feed    — reads pending rows by id, waits for the throttle, marks a small
//             batch `sending` in one durable transaction, hands the jobs to
//             the workers one by one;
//   worker  — one per SMTP connection: renders, sends, classifies the reply;
//   journal — writes outcomes in group commits (CommitEvery / CommitInterval).
// A row is `sending` in the database before its message leaves, and gets its
// outcome only after the server answered: a crash can leave only `sending`
// rows uncertain.

func (r *run) feed(ctx context.Context, th *Throttle) error {
	db := r.e.DB
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The mark must survive a power cut, not only a crash: if it were lost,
	// a message already sent would look pending and go out twice. Outcomes
	// need not: a lost outcome leaves the row `sending`, i.e. `unknown`.
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return err
	}
	defer conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
	// "+delivery_id" keeps SQLite on the rowid range instead of the
	// (delivery_id, email_key) index, so each page costs its own rows only.
	selPending, err := conn.PrepareContext(ctx, `SELECT id, email, fields, attempts, state FROM delivery_recipients
		WHERE id > ? AND +delivery_id = ? AND state = 'pending' ORDER BY id LIMIT 512`)
	if err != nil {
		return err
	}
	defer selPending.Close()
	selDue, err := conn.PrepareContext(ctx, `SELECT id, email, fields, attempts, state FROM delivery_recipients
		WHERE delivery_id = ? AND state = 'deferred' AND next_try <= ? ORDER BY next_try, id LIMIT 512`)
	if err != nil {
		return err
	}
	defer selDue.Close()
	claim, err := conn.PrepareContext(ctx, `UPDATE delivery_recipients SET state = 'sending', updated_at = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer claim.Close()
	claimRange, err := conn.PrepareContext(ctx, `UPDATE delivery_recipients SET state = 'sending', updated_at = ?
		WHERE id BETWEEN ? AND ? AND +delivery_id = ? AND state = 'pending'`)
	if err != nil {
		return err
	}
	defer claimRange.Close()

	f := &feeder{r: r, conn: conn, claim: claim, claimRange: claimRange, th: th}
	cursor := int64(0)
	for {
		if r.stopped() {
			return nil
		}
		page, err := readJobs(ctx, selPending, cursor, r.id)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			page, err = readJobs(ctx, selDue, r.id, r.o.Clock.Now().UnixMilli())
			if err != nil {
				return err
			}
		} else {
			cursor = page[len(page)-1].id
		}
		if len(page) > 0 {
			if err := f.offer(ctx, page); err != nil {
				return err
			}
			continue
		}
		// Nothing to send now: wait for the messages in flight, then for the
		// earliest retry; done when neither is left.
		if r.claimed.Load() != r.committed.Load() {
			select {
			case <-r.notify:
			case <-r.stopCh:
			case <-time.After(time.Second):
			}
			continue
		}
		var next sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT MIN(next_try) FROM delivery_recipients WHERE delivery_id = ? AND state = 'deferred'`, r.id).Scan(&next); err != nil {
			return err
		}
		if !next.Valid {
			var n int
			if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM delivery_recipients WHERE id > 0 AND +delivery_id = ? AND state = 'pending'`, r.id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			cursor = 0 // rows put back by a worker that could not send them
			continue
		}
		wait := time.UnixMilli(next.Int64).Sub(r.o.Clock.Now())
		if wait > 0 && !r.sleep(wait) {
			return nil
		}
	}
}

// sleep waits d unless the run stops first; it reports whether it slept.
func (r *run) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.stopCh:
		return false
	}
}

func readJobs(ctx context.Context, st *sql.Stmt, a, b int64) ([]*job, error) {
	rows, err := st.QueryContext(ctx, a, b)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*job
	for rows.Next() {
		j := &job{}
		if err := rows.Scan(&j.id, &j.email, &j.fields, &j.attempts, &j.from); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// contiguous reports whether batch holds pending rows in rising id order,
// as read from one page of pending rows.
func contiguous(batch []*job) bool {
	for i, j := range batch {
		if j.from != statePending || i > 0 && j.id <= batch[i-1].id {
			return false
		}
	}
	return true
}

type feeder struct {
	r          *run
	conn       *sql.Conn
	claim      *sql.Stmt
	claimRange *sql.Stmt
	th         *Throttle
	batch      []*job
}

// offer passes page through the throttle into claimed batches.
func (f *feeder) offer(ctx context.Context, page []*job) error {
	r := f.r
	for _, j := range page {
		for {
			if r.stopped() {
				return f.flush(ctx)
			}
			now := r.o.Clock.Now()
			wait, daily := f.th.Reserve(now)
			if wait == 0 {
				break
			}
			// Never hold claimed rows while waiting: send what is reserved.
			if err := f.flush(ctx); err != nil {
				return err
			}
			if daily && wait > r.o.MaxDailyWait {
				at := now.Add(wait)
				r.halt(stopReason{status: StatusPaused, resumeAfter: at,
					reason: fmt.Sprintf("the account's limit of %d messages per 24 hours is reached; it can go on after %s",
						r.o.Limits.PerDay, at.Local().Format("2006-01-02 15:04"))})
				return nil
			}
			if !r.sleep(wait) {
				return nil
			}
		}
		f.batch = append(f.batch, j)
		if len(f.batch) >= r.o.ClaimBatch {
			if err := f.flush(ctx); err != nil {
				return err
			}
		}
	}
	return f.flush(ctx)
}

// flush marks the batch `sending` in one transaction, then hands the jobs
// to the workers; jobs a stop keeps from a worker are put back unsent.
func (f *feeder) flush(ctx context.Context) error {
	r := f.r
	if len(f.batch) == 0 {
		return nil
	}
	batch := f.batch
	f.batch = f.batch[:0]
	if r.stopped() {
		return nil
	}
	tx, err := f.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	if contiguous(batch) {
		// The batch is every pending row between its first and last id
		// (the page was read in id order): one statement claims them all.
		res, err := tx.StmtContext(ctx, f.claimRange).ExecContext(ctx, now, batch[0].id, batch[len(batch)-1].id, r.id)
		if err == nil {
			if n, _ := res.RowsAffected(); n != int64(len(batch)) {
				err = fmt.Errorf("claimed %d rows, expected %d", n, len(batch))
			}
		}
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("journal: %w", err)
		}
	} else {
		st := tx.StmtContext(ctx, f.claim)
		for _, j := range batch {
			if _, err := st.ExecContext(ctx, now, j.id); err != nil {
				tx.Rollback()
				return fmt.Errorf("journal: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	r.claimed.Add(int64(len(batch)))
	r.mu.Lock()
	for _, j := range batch {
		r.counts.add(j.from, -1)
	}
	r.counts.Sending += len(batch)
	r.mu.Unlock()
	for i, j := range batch {
		select {
		case r.work <- j:
		case <-r.stopCh:
			for _, u := range batch[i:] {
				u.state = u.from
				r.results <- u
			}
			return nil
		}
	}
	return nil
}

// worker sends on one connection at a time, reconnecting after the
// account's messages-per-connection (which also picks up a fresh token).
func (r *run) worker(ctx context.Context) {
	var m Mailer
	perConn := r.o.Limits.PerConnection
	onConn := 0
	refresh := false
	defer func() {
		if m != nil {
			m.Close()
		}
	}()
	rnd := r.tpl.NewRenderer()
	var content merge.Content
	var buf bytes.Buffer
	fields := make([]string, len(r.tpl.Columns()))
	to := make([]string, 1)
	headers := map[string]string{"X-Bluemoon-Delivery": fmt.Sprint(r.id)}
	for k, v := range r.o.Headers {
		headers[k] = v
	}
	// A job handed over is sent even if the run is stopping: the feeder
	// alone decides what is handed over, so a stop never strands a claim.
	for j := range r.work {
		if err := decodeFields(j.fields, fields); err != nil {
			r.fail(j, "not sent: "+err.Error())
			continue
		}
		if err := rnd.Render(fields, &content); err != nil {
			r.fail(j, "not sent: "+err.Error())
			continue
		}
		env := merge.Envelope{MessageID: fmt.Sprintf("bm%d.%d.%s", r.id, j.id, merge.NewMessageID(r.from)), Headers: headers}
		if err := r.tpl.Compose(&content, env, &buf); err != nil {
			r.fail(j, "not sent: "+err.Error())
			continue
		}
		if m == nil && r.noDial.Load() {
			j.state = j.from // the account cannot connect: never handed to a server
			r.results <- j
			continue
		}
		if m == nil {
			var err error
			if m, err = r.connect(ctx, refresh); err != nil {
				j.state = j.from // never handed to a server
				r.results <- j
				continue
			}
			refresh, onConn = false, 0
		}
		to[0] = j.email
		reply, err := m.Send(ctx, r.from, to, buf.Bytes())
		j.at = r.o.Clock.Now().UnixMilli()
		onConn++
		switch {
		case err == nil:
			j.state, j.reply = stateSent, reply
			j.attempts++
		case isUncertain(err):
			// The connection broke while the server had the message: it may
			// have been taken. Retrying could send it twice, so it is
			// unknown, like a row a crash left 'sending'.
			j.attempts++
			j.state, j.reply = stateUnknown, "uncertain: "+err.Error()
		case isAuthFailure(err):
			// Refused before the message was taken: send it again on a
			// connection with a refreshed token.
			j.state = j.from
			refresh = true
		case isTemporary(err):
			j.attempts++
			j.reply = err.Error()
			if j.attempts >= r.o.MaxAttempts {
				j.state = stateFailed
				j.reply = fmt.Sprintf("gave up after %d attempts: %s", j.attempts, j.reply)
			} else {
				j.state = stateDeferred
				j.nextTry = j.at + r.backoff(j.attempts).Milliseconds()
			}
		default:
			j.attempts++
			j.state, j.reply = stateFailed, err.Error()
		}
		if err != nil || (perConn > 0 && onConn >= perConn) {
			m.Close()
			m = nil
		}
		r.results <- j
	}
}

func (r *run) fail(j *job, reason string) {
	j.state, j.reply, j.at = stateFailed, reason, r.o.Clock.Now().UnixMilli()
	r.results <- j
}

// backoff is the wait before attempt n+1: RetryBase doubling, at most RetryMax.
func (r *run) backoff(n int) time.Duration {
	d := r.o.RetryBase
	for i := 1; i < n && d < r.o.RetryMax; i++ {
		d *= 2
	}
	return min(d, r.o.RetryMax)
}

// connect dials with the account's sign-in. An authentication failure gets
// one retry with a refreshed token; then, or when the token source says a
// person must sign in, the run pauses for sign-in.
func (r *run) connect(ctx context.Context, refresh bool) (Mailer, error) {
	for attempt := 0; ; attempt++ {
		m, err := r.e.Dial(ctx, refresh)
		if err == nil {
			return m, nil
		}
		if needsSignIn(err) || isAuthFailure(err) && refresh || attempt+1 >= r.o.DialRetries || !isTemporary(err) && attempt > 0 {
			r.noDial.Store(true)
		}
		switch {
		case needsSignIn(err):
			r.halt(stopReason{status: StatusPaused, signIn: true, reason: "sign-in needed: " + err.Error()})
			return nil, err
		case isAuthFailure(err) && !refresh:
			refresh = true
			continue
		case isAuthFailure(err):
			r.halt(stopReason{status: StatusPaused, signIn: true, reason: "the server refused the sign-in (even with a refreshed token): " + err.Error()})
			return nil, err
		}
		if attempt+1 >= r.o.DialRetries || !isTemporary(err) && attempt > 0 {
			r.halt(stopReason{status: StatusPaused, reason: "cannot connect to the mail server: " + err.Error()})
			return nil, err
		}
		if !r.sleep(time.Duration(1<<attempt) * time.Second) {
			return nil, err
		}
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func isAuthFailure(err error) bool {
	var a interface{ AuthFailure() bool }
	return errors.As(err, &a) && a.AuthFailure()
}

func isUncertain(err error) bool {
	var u interface{ Uncertain() bool }
	return errors.As(err, &u) && u.Uncertain()
}

func needsSignIn(err error) bool {
	var s interface{ NeedsSignIn() bool }
	return errors.As(err, &s) && s.NeedsSignIn()
}

// journal writes outcomes in group commits.
func (r *run) journal(ctx context.Context) error {
	db := r.e.DB
	upd, err := db.PrepareContext(ctx, `UPDATE delivery_recipients SET state = ?, reply = ?, attempts = ?, next_try = ?, updated_at = ? WHERE id = ?`)
	if err != nil {
		r.drain()
		return err
	}
	defer upd.Close()
	logStmt, err := db.PrepareContext(ctx, `INSERT INTO send_log(account, minute, count) VALUES (?, ?, ?)
		ON CONFLICT(account, minute) DO UPDATE SET count = count + excluded.count`)
	if err != nil {
		r.drain()
		return err
	}
	defer logStmt.Close()
	batch := make([]*job, 0, r.o.CommitEvery)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	lastProgress := time.Time{}
	minutes := map[int64]int{}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		u := tx.StmtContext(ctx, upd)
		clear(minutes)
		for _, j := range batch {
			if _, err := u.ExecContext(ctx, j.state, j.reply, j.attempts, j.nextTry, j.at, j.id); err != nil {
				tx.Rollback()
				return err
			}
			if j.state == stateSent {
				minutes[j.at/60000]++
			}
		}
		l := tx.StmtContext(ctx, logStmt)
		for m, n := range minutes {
			if _, err := l.ExecContext(ctx, r.account, m, n); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		r.mu.Lock()
		sent := 0
		for _, j := range batch {
			r.counts.Sending--
			r.counts.add(j.state, 1)
			if j.state == stateSent {
				sent++
			}
		}
		r.mu.Unlock()
		r.sentThisRun.Add(int64(sent))
		r.committed.Add(int64(len(batch)))
		batch = batch[:0]
		select {
		case r.notify <- struct{}{}:
		default:
		}
		if r.o.Progress != nil && time.Since(lastProgress) >= r.o.ProgressEvery {
			lastProgress = time.Now()
			r.o.Progress(r.progress())
		}
		return nil
	}
	for {
		select {
		case j, ok := <-r.results:
			if !ok {
				if err := flush(); err != nil {
					return fmt.Errorf("journal: %w", err)
				}
				return nil
			}
			if len(batch) == 0 {
				timer.Reset(r.o.CommitInterval)
			}
			batch = append(batch, j)
			if len(batch) >= r.o.CommitEvery {
				timer.Stop()
				if err := flush(); err != nil {
					r.halt(stopReason{status: StatusPaused, reason: "journal: " + err.Error()})
					r.drain()
					return fmt.Errorf("journal: %w", err)
				}
			}
		case <-timer.C:
			if err := flush(); err != nil {
				r.halt(stopReason{status: StatusPaused, reason: "journal: " + err.Error()})
				r.drain()
				return fmt.Errorf("journal: %w", err)
			}
		}
	}
}

// drain consumes the remaining results after the journal failed: those
// rows stay `sending` in the database and will be `unknown` on resume,
// which is the truth about them.
func (r *run) drain() {
	for range r.results {
	}
}
