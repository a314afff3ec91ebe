package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// The goroutines of a run:
//   ledger — the only one to touch the database while the run lasts, on one
//            connection of its own (two connections writing in turn would
//            keep discarding each other's page cache). It reads pending rows
//            by id and serves the workers' requests: each brings the
//            outcomes of the worker's last window and asks for the next
//            one; the ledger lets rows through the throttle, and in one
//            transaction records the outcomes and marks the new window's
//            rows `sending`, then hands them over. Requests that arrive
//            together share the transaction. On a timer it also stamps the
//            heartbeat, polls for a pause or cancel asked by another process
//            and reports progress.
//   worker — one per SMTP connection: renders its window, writes it, reads
//            the replies, and asks for the next.
// A row is `sending` in the database only once it is in a window about to
// be written, and gets its outcome after the server's reply, in the same
// transaction that claims the connection's next window: a crash leaves at
// most Connections × Window rows uncertain.

// ledger is the ledger goroutine's state.
type ledger struct {
	r    *run
	conn *sql.Conn
	th   *Throttle
	st   statements

	page   []*job // read, not yet let through the throttle
	cursor int64  // id of the last pending row read
	// putBackFrom is the first row put back pending behind the cursor (0:
	// none): the pass that reads them again starts there, not at the
	// delivery's first row (a whole pass over a large delivery read every
	// row sent, for the few put back).
	putBackFrom int64
	// deferred counts the delivery's deferred rows as the transaction
	// under way leaves them (the ledger is their only writer): with none
	// deferred, the queries for them are not asked at all (the end of a
	// run asked them at every commit while the last windows were out, and
	// before their index each read the whole delivery).
	deferred int
	waitTill time.Time
	finished bool        // nothing is left to hand out
	pause    *stopReason // why the run pauses once the windows out are back
	failed   error

	pending   []*commit // requests waiting for their group's transaction
	hungry    []*commit // requests recorded, still waiting for rows
	serve     []*commit
	flying    int  // windows handed out whose outcomes are not back
	handing   int  // rows being handed out in the transaction under way
	readAgain bool // it stopped at the end of a page: the next one is read in a new transaction

	lastBeat, lastPoll, lastProgress, lastSync, lastLog time.Time
	free                                                []*job
	buf, buf2                                           []any
	minutes                                             map[int64]int // messages sent by unix minute, not yet in the send log
}

// heartbeatEvery: a running delivery's heartbeat is stamped at least this
// often; InterruptedAfter without one, it counts as interrupted.
var heartbeatEvery = time.Second

// syncEvery bounds what a power cut can take back: commits are written
// without fsync (a process crash loses none of them, the operating system
// has them), and one every syncEvery is made durable, with every commit
// before it.
const syncEvery = time.Second

// groupWait is the longest a request waits for others to share its
// transaction.
const groupWait = 2 * time.Millisecond

func (r *run) ledger(ctx context.Context, th *Throttle) error {
	l := &ledger{r: r, th: th, minutes: map[int64]int{}}
	now := time.Now()
	l.lastBeat, l.lastPoll, l.lastSync, l.lastLog = now, now, now, now
	r.mu.Lock()
	l.deferred = r.counts.Deferred
	r.mu.Unlock()
	if err := l.open(ctx); err != nil {
		l.fail(err)
	}
	defer l.close(ctx)
	tick := time.NewTicker(min(r.o.ProgressEvery, r.o.PollInterval, heartbeatEvery))
	defer tick.Stop()
	wait := time.NewTimer(time.Hour) // a throttle's or a retry's time
	wait.Stop()
	group := time.NewTimer(time.Hour)
	group.Stop()
	stopCh := r.stopCh
	for {
		select {
		case c := <-r.commits:
			if c.flying {
				c.flying = false
				l.flying--
			}
			l.pending = append(l.pending, c)
			// The group is committed once every window out is back, or
			// groupWait after its first request: on a fast server the
			// connections fall into step and share each transaction.
			if l.flying <= 0 {
				group.Stop()
				l.commitPending(ctx, wait)
			} else if len(l.pending) == 1 {
				group.Reset(groupWait)
			}
		case <-group.C:
			l.commitPending(ctx, wait)
		case <-wait.C:
			l.waitTill = time.Time{}
			l.commitPending(ctx, wait) // the hungry ones
		case <-tick.C:
			l.tick(ctx, wait)
		case <-stopCh:
			stopCh = nil
			l.commitPending(ctx, wait) // the hungry ones learn it is over
		case <-r.done:
			if l.failed == nil {
				if err := l.writeSendLog(ctx); err != nil {
					l.fail(err)
				}
			}
			if l.pause != nil {
				r.halt(*l.pause)
			}
			return l.failed
		}
	}
}

func (l *ledger) fail(err error) {
	if l.failed == nil {
		l.failed = fmt.Errorf("journal: %w", err)
		l.r.halt(stopReason{status: StatusPaused, cause: CauseOther, reason: l.failed.Error()})
	}
}

// over reports whether no more rows will be handed out.
func (l *ledger) over() bool { return l.failed != nil || l.finished || l.r.stopped() }

// next returns the next row let through the throttle, or nil when there
// is none now; it then arranges to be asked again (wait fires at a
// throttle's or retry's time; a commit may put rows back) or sets
// l.finished.
func (l *ledger) next(ctx context.Context, wait *time.Timer) *job {
	r := l.r
	if l.over() || !l.waitTill.IsZero() {
		return nil
	}
	for len(l.page) == 0 {
		if !l.readPage(ctx, wait) {
			return nil
		}
	}
	now := r.o.Clock.Now()
	d, daily := l.th.Reserve(now)
	if d > 0 {
		if daily && d > r.o.MaxDailyWait {
			// The windows out still finish; then the run pauses.
			at := now.Add(d)
			l.pause = &stopReason{status: StatusPaused, cause: CauseDailyLimit, resumeAfter: at,
				reason: fmt.Sprintf("the account's limit of %d messages per 24 hours is reached; it can go on after %s",
					r.o.Limits.PerDay, at.Local().Format("2006-01-02 15:04 MST"))}
			l.finished = true
			return nil
		}
		l.waitTill = now.Add(d)
		wait.Reset(d)
		return nil
	}
	j := l.page[0]
	l.page = l.page[1:]
	return j
}

// putBack notes that the row id, handed out, is pending again behind the
// cursor.
func (l *ledger) putBack(id int64) {
	if l.putBackFrom == 0 || id < l.putBackFrom {
		l.putBackFrom = id
	}
}

// readPage reads the next page of pending rows, else the deferred rows
// now due; it reports false when there is none to read now (l.finished
// when there will be none at all).
func (l *ledger) readPage(ctx context.Context, wait *time.Timer) bool {
	r := l.r
	if l.handing > 0 {
		// Rows handed out in the transaction under way are not claimed
		// yet, still pending or deferred to any read: read again in the
		// next transaction, once they are.
		l.readAgain = true
		return false
	}
	var err error
	l.page, err = l.readJobs(ctx, l.st.selPending, statePending, l.cursor, r.id)
	if err == nil && len(l.page) == 0 && l.putBackFrom > 0 {
		// Rows put back behind the cursor (never written, or refused
		// before the message was taken): read from the first of them.
		l.cursor, l.putBackFrom = l.putBackFrom-1, 0
		l.page, err = l.readJobs(ctx, l.st.selPending, statePending, l.cursor, r.id)
	}
	if err == nil && len(l.page) > 0 {
		l.cursor = l.page[len(l.page)-1].id
		return true
	}
	if err == nil && l.deferred > 0 {
		l.page, err = l.readJobs(ctx, l.st.selDue, stateDeferred, r.id, r.o.Clock.Now().UnixMilli())
	}
	if err != nil {
		l.fail(err)
		return false
	}
	if len(l.page) > 0 || l.flying+l.handing > 0 {
		return len(l.page) > 0 // the windows out may bring rows back
	}
	if l.deferred == 0 {
		l.finished = true
		return false
	}
	var next sql.NullInt64
	if err := l.st.nextTry.QueryRowContext(ctx, r.id).Scan(&next); err != nil {
		l.fail(err)
		return false
	}
	if !next.Valid {
		l.finished = true
		return false
	}
	// Only retries are left: wait for the earliest.
	l.waitTill = time.UnixMilli(next.Int64)
	wait.Reset(max(l.waitTill.Sub(r.o.Clock.Now()), 0))
	return false
}

// readJobs reads a page of rows in state from (st selects them by a, b).
func (l *ledger) readJobs(ctx context.Context, st *sql.Stmt, from string, a, b int64) ([]*job, error) {
	rows, err := st.QueryContext(ctx, a, b)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := l.page[:0]
	for rows.Next() {
		var j *job
		if n := len(l.free); n > 0 {
			j, l.free = l.free[n-1], l.free[:n-1]
			*j = job{fields: j.fields[:0]}
		} else {
			j = &job{}
		}
		var fields sql.RawBytes
		if err := rows.Scan(&j.id, &j.email, &fields, &j.attempts); err != nil {
			return nil, err
		}
		j.from = from
		j.fields = append(j.fields, fields...)
		page = append(page, j)
	}
	return page, rows.Err()
}

// tick stamps the heartbeat, polls for a pause or cancel from another
// process and reports progress, each when it is due.
func (l *ledger) tick(ctx context.Context, wait *time.Timer) {
	r := l.r
	now := time.Now()
	if !l.waitTill.IsZero() && !r.o.Clock.Now().Before(l.waitTill) {
		l.waitTill = time.Time{} // a fake clock's time has come
		l.commitPending(ctx, wait)
	}
	if l.failed == nil && now.Sub(l.lastBeat) >= heartbeatEvery {
		if err := l.beat(ctx, now); err != nil {
			l.fail(err)
		}
		l.lastBeat = now
	}
	if l.failed == nil && !r.stopped() && now.Sub(l.lastPoll) >= r.o.PollInterval {
		l.poll(ctx)
	}
	if r.o.Progress != nil && now.Sub(l.lastProgress) >= r.o.ProgressEvery {
		l.lastProgress = now
		r.o.Progress(r.progress())
	}
}

// beat stamps the heartbeat, and with it the counts and rate, so that
// another process shows the progress without counting every row.
func (l *ledger) beat(ctx context.Context, now time.Time) error {
	p := l.r.progress()
	stamp, err := json.Marshal(stampedProgress{Counts: p.Counts, Rate: p.Rate})
	if err != nil {
		return err
	}
	_, err = l.st.heartbeat.ExecContext(ctx, now.UnixMilli(), string(stamp), l.r.id)
	return err
}

// poll reads the control flag another process sets with 'deliveries
// pause' or 'cancel', and stops the run if it is set.
func (l *ledger) poll(ctx context.Context) {
	l.lastPoll = time.Now()
	var ctl string
	if err := l.st.control.QueryRowContext(ctx, l.r.id).Scan(&ctl); err != nil {
		l.fail(err)
		return
	}
	l.control(ctl)
}

// control stops the run for a pause or cancel asked by another process.
func (l *ledger) control(ctl string) {
	switch ctl {
	case "pause":
		l.r.halt(stopReason{status: StatusPaused, cause: CauseByHand, reason: "paused by 'bluemoon deliveries pause'"})
	case "cancel":
		l.r.halt(stopReason{status: StatusCancelled, cause: CauseCancelled, reason: "cancelled"})
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
