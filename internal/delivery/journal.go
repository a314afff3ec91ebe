package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// commit is a worker's request to the ledger: the outcomes of its last
// window (and of rows it could not render or had to put back), recorded in
// the transaction that claims its next window of up to want rows. The
// reply is jobs (claimed), or end: no more will come.
type commit struct {
	done  []*job
	want  int
	jobs  []*job
	end   bool
	reply chan struct{}

	flying bool // the ledger's: a window was handed out, its outcomes are not back
}

// The deferred rows due, and the earliest retry: both go through the
// partial index on deferred rows (migration 0080), so they cost the
// deferred rows, not a read of the whole delivery.
const (
	selDueSQL = `SELECT id, email, fields, attempts FROM delivery_recipients
		WHERE delivery_id = ? AND state = 'deferred' AND next_try <= ? ORDER BY next_try, id LIMIT 512`
	nextTrySQL = `SELECT MIN(next_try) FROM delivery_recipients WHERE delivery_id = ? AND state = 'deferred'`
)

// statements are the ledger's, prepared once on its connection.
type statements struct {
	selPending, selDue, nextTry *sql.Stmt
	begin, commit               *sql.Stmt
	sendLog, heartbeat, control *sql.Stmt
	sent, outcomes, claim       batchStmt
}

func (l *ledger) open(ctx context.Context) error {
	conn, err := l.r.e.DB.Conn(ctx)
	if err != nil {
		return err
	}
	l.conn = conn
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		// "+delivery_id" keeps SQLite on the rowid range instead of the
		// (delivery_id, email_key) index, so each page costs its own rows only.
		{&l.st.selPending, `SELECT id, email, fields, attempts FROM delivery_recipients
			WHERE id > ? AND +delivery_id = ? AND state = 'pending' ORDER BY id LIMIT 512`},
		{&l.st.selDue, selDueSQL},
		{&l.st.nextTry, nextTrySQL},
		{&l.st.begin, `BEGIN IMMEDIATE`},
		{&l.st.commit, `COMMIT`},
		{&l.st.sendLog, `INSERT INTO send_log(account, minute, count) VALUES (?, ?, ?)
			ON CONFLICT(account, minute) DO UPDATE SET count = count + excluded.count`},
		{&l.st.heartbeat, `UPDATE deliveries SET heartbeat = ?, progress = ? WHERE id = ?`},
		{&l.st.control, `SELECT control FROM deliveries WHERE id = ?`},
	} {
		if *p.st, err = conn.PrepareContext(ctx, p.sql); err != nil {
			return err
		}
	}
	raw := &rawConn{conn: conn}
	// Most outcomes are "sent": their statement binds 5 values a row, not 7.
	// An empty via (never handed to a server) keeps the row's.
	l.st.sent = batchStmt{raw: raw, per: 5, sql: func(n int) string {
		return `UPDATE delivery_recipients SET state = 'sent', reply = v.column2, attempts = v.column3, next_try = 0, updated_at = v.column4,
			via = COALESCE(NULLIF(v.column5, ''), delivery_recipients.via)
			FROM (VALUES ` + placeholders(n, 5) + `) AS v WHERE delivery_recipients.id = v.column1`
	}}
	l.st.outcomes = batchStmt{raw: raw, per: 7, sql: func(n int) string {
		return `UPDATE delivery_recipients SET state = v.column2, reply = v.column3, attempts = v.column4, next_try = v.column5, updated_at = v.column6,
			via = COALESCE(NULLIF(v.column7, ''), delivery_recipients.via)
			FROM (VALUES ` + placeholders(n, 7) + `) AS v WHERE delivery_recipients.id = v.column1`
	}}
	l.st.claim = batchStmt{raw: raw, per: 1, sql: func(n int) string {
		return `UPDATE delivery_recipients SET state = 'sending' WHERE id IN (` + placeholders(n, 1) + `) AND state IN ('pending', 'deferred')`
	}}
	return nil
}

func (l *ledger) close(ctx context.Context) {
	for _, st := range []*sql.Stmt{l.st.selPending, l.st.selDue, l.st.nextTry, l.st.begin, l.st.commit, l.st.sendLog, l.st.heartbeat, l.st.control} {
		if st != nil {
			st.Close()
		}
	}
	for _, b := range []*batchStmt{&l.st.sent, &l.st.outcomes, &l.st.claim} {
		b.close()
	}
	if l.conn != nil {
		l.conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
		l.conn.Close()
	}
}

// batchStmt is one statement over a list of rows, run in chunks of 32,
// 16, 8, 4, 2 and 1 rows, each size prepared when first needed: a window
// of any length costs a few statements and binds no padding.
type batchStmt struct {
	raw   *rawConn
	per   int // values bound per row
	sql   func(rows int) string
	stmts [6]rawStmt // by log2 of the rows
}

// exec runs the statement over args (per values a row) and returns the
// rows it changed.
func (b *batchStmt) exec(ctx context.Context, args []any) (int64, error) {
	var changed int64
	for rows := len(args) / b.per; rows > 0; {
		k := len(b.stmts) - 1
		for 1<<k > rows {
			k--
		}
		if b.stmts[k].sql == "" {
			b.stmts[k].sql = b.sql(1 << k)
		}
		n := (1 << k) * b.per
		c, err := b.raw.exec(ctx, &b.stmts[k], args[:n])
		if err != nil {
			return changed, err
		}
		changed += c
		args, rows = args[n:], rows-1<<k
	}
	return changed, nil
}

func (b *batchStmt) close() {
	if b.raw == nil {
		return
	}
	for i := range b.stmts {
		b.raw.close(&b.stmts[i])
	}
}

// placeholders is n rows of per "?" each: "(?, ?), (?, ?)" (per 1: "?, ?").
func placeholders(n, per int) string {
	row := strings.TrimSuffix(strings.Repeat("?, ", per), ", ")
	if per > 1 {
		row = "(" + row + ")"
	}
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// commitPending records the pending requests' outcomes and hands them,
// and the requests still waiting for rows, their next windows, in one
// transaction; then it answers those it can.
func (l *ledger) commitPending(ctx context.Context, wait *time.Timer) {
	l.readAgain = false
	l.commitOnce(ctx, wait)
	for l.readAgain && len(l.hungry) > 0 && l.failed == nil {
		l.readAgain = false
		l.commitOnce(ctx, wait)
	}
}

func (l *ledger) commitOnce(ctx context.Context, wait *time.Timer) {
	r := l.r
	recorded := l.pending
	if len(recorded) == 0 && len(l.hungry) == 0 {
		return
	}
	serve := append(append(l.serve[:0], l.hungry...), recorded...) // the longest waiting first
	granted := false
	if l.failed == nil {
		var err error
		if granted, err = l.write(ctx, recorded, serve, wait); err != nil {
			l.fail(err)
		}
	}
	r.mu.Lock()
	for _, c := range recorded {
		for _, j := range c.done {
			if l.failed == nil {
				r.counts.Sending--
				r.counts.add(j.state, 1)
			}
		}
	}
	for _, c := range serve {
		if !granted && len(c.jobs) > 0 {
			for _, j := range c.jobs {
				if j.from == statePending {
					l.putBack(j.id)
				}
			}
			c.jobs = c.jobs[:0] // not claimed: still pending or deferred in the database
		}
		for _, j := range c.jobs {
			r.counts.add(j.from, -1)
			r.counts.Sending++
		}
	}
	r.mu.Unlock()
	for _, c := range recorded {
		for _, j := range c.done {
			if j.state == stateSent {
				r.sentThisRun.Add(1)
			}
			if len(l.free) < 1024 {
				l.free = append(l.free, j)
			}
		}
	}
	old := l.hungry
	hungry := old[:0]
	for _, c := range serve {
		switch {
		case len(c.jobs) > 0:
			c.flying = true
			l.flying++
		case c.want > 0 && !l.over():
			hungry = append(hungry, c) // recorded; rows come later
			continue
		}
		c.end = len(c.jobs) == 0 && l.over()
		c.reply <- struct{}{}
	}
	if len(hungry) < len(old) {
		clear(old[len(hungry):])
	}
	l.hungry = hungry
	clear(l.pending)
	l.pending = l.pending[:0]
	clear(serve)
	l.serve = serve[:0]
}

// write is commitPending's transaction: it records the outcomes of
// recorded, then (reading rows in the same transaction, so that it sees
// those just put back or deferred) lets rows through the throttle for the
// requests in serve and claims them. The claim is made only while no pause
// or cancel is asked: one asked before the transaction stops the run here,
// so no message is written after it; granted is false then.
func (l *ledger) write(ctx context.Context, recorded, serve []*commit, wait *time.Timer) (granted bool, err error) {
	r := l.r
	outcomes, wants := 0, 0
	for _, c := range recorded {
		outcomes += len(c.done)
	}
	for _, c := range serve {
		wants += c.want
	}
	if outcomes == 0 && (wants == 0 || l.over() || !l.waitTill.IsZero()) {
		return false, nil // nothing to record, nothing to hand out now
	}
	now := time.Now()
	durable := now.Sub(l.lastSync) >= syncEvery
	if durable {
		// This commit fsyncs the write-ahead log, and with it every
		// commit before it.
		if _, err := l.conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
			return false, err
		}
		defer l.conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
	}
	if _, err := l.st.begin.ExecContext(ctx); err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			l.conn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	sent, other := l.buf[:0], l.buf2[:0]
	for _, c := range recorded {
		for _, j := range c.done {
			if j.state == stateSent {
				sent = append(sent, j.id, j.reply, j.attempts, j.at, j.via)
				l.minutes[j.at/60000]++
			} else {
				other = append(other, j.id, j.state, j.reply, j.attempts, j.nextTry, j.at, j.via)
				if j.state == stateDeferred {
					l.deferred++
				}
			}
		}
	}
	if _, err := l.st.sent.exec(ctx, sent); err != nil {
		return false, err
	}
	if _, err := l.st.outcomes.exec(ctx, other); err != nil {
		return false, err
	}
	for _, c := range recorded {
		for _, j := range c.done {
			if j.state == statePending && j.from == statePending {
				l.putBack(j.id)
			}
		}
	}
	clear(sent)
	clear(other)
	l.buf = sent[:0]
	l.handing = 0
	for _, c := range serve {
		for len(c.jobs) < c.want {
			j := l.next(ctx, wait)
			if j == nil {
				break
			}
			c.jobs = append(c.jobs, j)
			l.handing++
		}
	}
	l.handing = 0
	args := other[:0]
	for _, c := range serve {
		for _, j := range c.jobs {
			args = append(args, j.id)
		}
	}
	grant := len(args) > 0 && !r.stopped()
	if grant {
		l.lastPoll = now
		var ctl string
		if err := l.st.control.QueryRowContext(ctx, r.id).Scan(&ctl); err != nil {
			return false, err
		}
		l.control(ctl)
		grant = ctl == ""
	}
	if grant {
		n, err := l.st.claim.exec(ctx, args)
		if err != nil {
			return false, err
		}
		if n != int64(len(args)) {
			return false, fmt.Errorf("claimed %d rows, expected %d", n, len(args))
		}
		for _, c := range serve {
			for _, j := range c.jobs {
				if j.from == stateDeferred {
					l.deferred--
				}
			}
		}
	}
	clear(args)
	l.buf2 = args[:0]
	// The send log counts an account's messages for its daily limit, in
	// this process and the next. Without a daily limit it is written once
	// a second: a crash may leave that second uncounted.
	if r.o.Limits.PerDay > 0 || now.Sub(l.lastLog) >= time.Second {
		if err := l.writeSendLog(ctx); err != nil {
			return false, err
		}
		l.lastLog = now
	}
	if now.Sub(l.lastBeat) >= heartbeatEvery {
		if err := l.beat(ctx, now); err != nil {
			return false, err
		}
		l.lastBeat = now
	}
	if _, err := l.st.commit.ExecContext(ctx); err != nil {
		return false, err
	}
	if durable {
		l.lastSync = now
	}
	return grant, nil
}

// writeSendLog adds the messages sent since it last ran to the send log.
func (l *ledger) writeSendLog(ctx context.Context) error {
	for m, k := range l.minutes {
		if _, err := l.st.sendLog.ExecContext(ctx, l.r.account, m, k); err != nil {
			return err
		}
	}
	clear(l.minutes)
	return nil
}
