package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The three goroutine kinds of a run:
//   feed    — reads pending rows by id, waits for the throttle, marks a small
//             batch `sending` in one durable transaction, hands the jobs to
//             the workers through a small buffered channel;
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
						r.o.Limits.PerDay, at.Local().Format("2006-01-02 15:04 MST"))})
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
	// BEGIN/COMMIT on the connection itself: the claim statements were
	// prepared on it, and database/sql's Tx.StmtContext would prepare them
	// again for every batch.
	if _, err := f.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	rollback := func(err error) error {
		f.conn.ExecContext(ctx, "ROLLBACK")
		return fmt.Errorf("journal: %w", err)
	}
	now := time.Now().UnixMilli()
	if contiguous(batch) {
		// The batch is every pending row between its first and last id
		// (the page was read in id order): one statement claims them all.
		res, err := f.claimRange.ExecContext(ctx, now, batch[0].id, batch[len(batch)-1].id, r.id)
		if err == nil {
			if n, _ := res.RowsAffected(); n != int64(len(batch)) {
				err = fmt.Errorf("claimed %d rows, expected %d", n, len(batch))
			}
		}
		if err != nil {
			return rollback(err)
		}
	} else {
		for _, j := range batch {
			if _, err := f.claim.ExecContext(ctx, now, j.id); err != nil {
				return rollback(err)
			}
		}
	}
	if _, err := f.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return rollback(err)
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
