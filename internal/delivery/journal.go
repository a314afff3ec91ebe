package delivery

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// journal writes outcomes in group commits.
func (r *run) journal(ctx context.Context) error {
	db := r.e.DB
	upd, err := db.PrepareContext(ctx, `UPDATE delivery_recipients SET state = ?, reply = ?, attempts = ?, next_try = ?, updated_at = ?,
		via = COALESCE(NULLIF(?, ''), via) WHERE id = ?`)
	if err != nil {
		r.drain()
		return err
	}
	defer upd.Close()
	// Whole chunks of outcomes go in one statement: one bind-step-reset
	// round instead of journalChunk.
	updMany, err := db.PrepareContext(ctx, updateManySQL(journalChunk))
	if err != nil {
		r.drain()
		return err
	}
	defer updMany.Close()
	args := make([]any, 0, 7*journalChunk)
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
		rest := batch
		if len(rest) >= journalChunk {
			um := tx.StmtContext(ctx, updMany)
			for ; len(rest) >= journalChunk; rest = rest[journalChunk:] {
				args = args[:0]
				for _, j := range rest[:journalChunk] {
					args = append(args, j.id, j.state, j.reply, j.attempts, j.nextTry, j.at, j.via)
				}
				if _, err := um.ExecContext(ctx, args...); err != nil {
					tx.Rollback()
					return err
				}
			}
		}
		for _, j := range rest {
			if _, err := u.ExecContext(ctx, j.state, j.reply, j.attempts, j.nextTry, j.at, j.via, j.id); err != nil {
				tx.Rollback()
				return err
			}
		}
		for _, j := range batch {
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

// journalChunk is how many outcomes one UPDATE statement writes.
const journalChunk = 32

// updateManySQL updates n rows from a VALUES list of (id, state, reply,
// attempts, next_try, updated_at, via); an empty via keeps the row's.
func updateManySQL(n int) string {
	var b strings.Builder
	b.WriteString(`UPDATE delivery_recipients SET state = v.column2, reply = v.column3, attempts = v.column4,
		next_try = v.column5, updated_at = v.column6, via = COALESCE(NULLIF(v.column7, ''), delivery_recipients.via) FROM (VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(`) AS v WHERE delivery_recipients.id = v.column1`)
	return b.String()
}

// drain consumes the remaining results after the journal failed: those
// rows stay `sending` in the database and will be `unknown` on resume,
// which is the truth about them.
func (r *run) drain() {
	for range r.results {
	}
}
