package delivery

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// rowWriter stores the recipient rows of a delivery being prepared: rows
// are buffered and inserted insertChunk to a statement (one INSERT per
// row was a tenth of a whole send's CPU), in transactions of a few
// thousand rows. It counts the rows stored as ready or suppressed and the
// addresses dropped as repeats.
type rowWriter struct {
	ctx  context.Context
	conn *sql.Conn // foreign keys off: see newRowWriter
	id   int64
	tx   *sql.Tx

	one, manyRet, sup *sql.Stmt
	// The common chunks go through the driver itself (rawConn), prepared
	// once for every transaction of the import.
	raw           rawConn
	many, pending rawStmt

	buf   []importRow
	arena []byte // the buffered rows' fields
	args  []any

	n, committed int   // rows inserted; rows inserted at the last commit
	last         int64 // unix ms of the last commit
	// noSuppressions skips the per-row lookup when the list is empty.
	noSuppressions bool

	ready, suppressedN, duplicates int
}

// importRow is one buffered row; skipped rows have no key.
type importRow struct {
	row        int
	email, key string
	keyed      bool
	fields     [2]int // arena[fields[0]:fields[1]]
	state      string
	reply      string
}

// insertChunk rows go in one INSERT statement.
const insertChunk = 64

const rowsPerTx = 5000

// commitEvery bounds the time between commits (and so between heartbeats)
// when rows are slow to come, e.g. large per-recipient attachments.
const commitEvery = time.Minute

const insertCols = `INSERT OR IGNORE INTO delivery_recipients(delivery_id, row, email, email_key, fields, state, reply, updated_at) `

// insertMany stores n rows of 6 values (row, email, key, fields, state,
// reply); the delivery and the time are bound once, as ?1 and ?2, not once
// a row: each value bound costs the driver a lookup, and a string one a
// C allocation and a copy.
func insertMany(n int) string {
	return insertCols + `SELECT ?1, column1, column2, column3, column4, column5, column6, ?2 FROM (VALUES ` + placeholders(n, 6) + `)`
}

// insertPending stores n rows to send, the common chunk: 4 values a row
// (row, email, key, fields), the state and the empty reply written in.
func insertPending(n int) string {
	return insertCols + `SELECT ?1, column1, column2, column3, column4, 'pending', '', ?2 FROM (VALUES ` + placeholders(n, 4) + `)`
}

func newRowWriter(ctx context.Context, db *sql.DB, id int64) (*rowWriter, error) {
	// Statements run without ctx's cancellation (the caller checks it
	// between rows): with a cancellable context the SQLite driver starts a
	// goroutine per statement to watch it.
	w := &rowWriter{ctx: context.WithoutCancel(ctx), id: id, last: time.Now().UnixMilli(),
		buf: make([]importRow, 0, insertChunk), args: make([]any, 0, 8*insertChunk)}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM suppressions LIMIT 1)`).Scan(&n); err != nil {
		return nil, err
	}
	w.noSuppressions = n == 0
	// The rows' foreign key is checked by commit instead (the delivery
	// must still be there, or nothing is stored): with the key checked, a
	// statement of many rows saves every page it changes in a statement
	// journal first, spilled to a temporary file past 64 KiB — a tenth of
	// the import's CPU, for a check that holds by construction.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		conn.Close()
		return nil, err
	}
	w.conn, w.raw.conn = conn, conn
	w.many.sql, w.pending.sql = insertMany(insertChunk), insertPending(insertChunk)
	if err := w.begin(); err != nil {
		w.release()
		return nil, err
	}
	return w, nil
}

// release gives the connection back with its foreign keys on again, or
// closes it for good if they are not (the pragma does nothing inside a
// transaction a failed commit left open).
func (w *rowWriter) release() {
	w.raw.close(&w.many, &w.pending)
	on := 0
	if _, err := w.conn.ExecContext(w.ctx, `PRAGMA foreign_keys = ON`); err == nil {
		w.conn.QueryRowContext(w.ctx, `PRAGMA foreign_keys`).Scan(&on)
	}
	if on != 1 {
		w.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	w.conn.Close()
}

func (w *rowWriter) begin() error {
	tx, err := w.conn.BeginTx(w.ctx, nil)
	if err != nil {
		return err
	}
	w.tx = tx
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&w.one, insertCols + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
		// Which rows a chunk with suppressed addresses stored: a repeat
		// dropped is not counted as suppressed.
		{&w.manyRet, insertMany(insertChunk) + ` RETURNING CASE state WHEN 'pending' THEN 0 WHEN 'suppressed' THEN 1 ELSE 2 END`},
		{&w.sup, `SELECT 1 FROM suppressions WHERE addr_key = ?`},
	} {
		if *p.st, err = tx.PrepareContext(w.ctx, p.sql); err != nil {
			return err
		}
	}
	return nil
}

// commit writes the buffered rows, stamps the delivery's heartbeat and
// commits them with it; the transaction is over either way. The heartbeat
// is also the rows' foreign key check: a delivery removed meanwhile (see
// removedWhilePreparing) gets no rows.
func (w *rowWriter) commit(now int64) error {
	tx := w.tx
	w.tx = nil
	if err := w.flush(now); err != nil {
		tx.Rollback()
		return err
	}
	res, err := tx.ExecContext(w.ctx, `UPDATE deliveries SET heartbeat = ? WHERE id = ?`, now, w.id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n != 1 {
			err = removedWhilePreparing(w.id)
		}
	}
	if err != nil {
		tx.Rollback()
		return err
	}
	w.last, w.committed = now, w.n
	return tx.Commit()
}

// close commits what is left and gives the connection back; the writer
// cannot be used afterwards.
func (w *rowWriter) close() error {
	if w.conn == nil {
		return nil
	}
	var err error
	if w.tx != nil {
		err = w.commit(time.Now().UnixMilli())
	}
	w.release()
	w.conn = nil
	return err
}

func (w *rowWriter) add(r importRow, fields []byte) error {
	start := len(w.arena)
	w.arena = append(w.arena, fields...)
	r.fields = [2]int{start, len(w.arena)}
	w.buf = append(w.buf, r)
	now := time.Now().UnixMilli()
	if len(w.buf) < insertChunk && now-w.last < commitEvery.Milliseconds() {
		return nil
	}
	if err := w.flush(now); err != nil {
		return err
	}
	if w.n-w.committed < rowsPerTx && now-w.last < commitEvery.Milliseconds() {
		return nil
	}
	if err := w.commit(now); err != nil {
		return err
	}
	return w.begin()
}

// insertSkipped stores a row left out for a problem: no key (so it never
// counts as a duplicate) and no fields (it is never sent).
func (w *rowWriter) insertSkipped(row int, email, reason string) error {
	return w.add(importRow{row: row, email: email, state: stateSkipped, reply: reason}, nil)
}

// insertKeyed stores a row to send (state pending) or a suppressed one; a
// repeat of an address already stored is dropped and counted.
func (w *rowWriter) insertKeyed(row int, email, key string, fields []byte, state string) error {
	return w.add(importRow{row: row, email: email, key: key, keyed: true, state: state}, fields)
}

// flush inserts the buffered rows.
func (w *rowWriter) flush(now int64) error {
	rows := w.buf
	if len(rows) == 0 {
		return nil
	}
	defer func() {
		w.buf, w.arena = w.buf[:0], w.arena[:0]
	}()
	if len(rows) < insertChunk {
		// The list's last few rows, or a pause in them long enough to commit.
		return w.flushOneByOne(now)
	}
	keyed, suppressed, pending := 0, 0, 0
	for i := range rows {
		if rows[i].keyed {
			keyed++
		}
		switch rows[i].state {
		case stateSuppressed:
			suppressed++
		case statePending:
			pending++
		}
	}
	allPending := pending == len(rows)
	args := append(w.args[:0], w.id, now)
	for i := range rows {
		r := &rows[i]
		key, fields := w.keyAndFields(r)
		if allPending {
			args = append(args, r.row, r.email, key, fields)
		} else {
			args = append(args, r.row, r.email, key, fields, r.state, r.reply)
		}
	}
	w.args = args[:0]
	first, last := rows[0].row, rows[len(rows)-1].row
	if suppressed == 0 {
		st := &w.many
		if allPending {
			st = &w.pending
		}
		n, err := w.raw.exec(w.ctx, st, args)
		if err != nil {
			return fmt.Errorf("store rows %d to %d: %w", first, last, err)
		}
		// Rows without a key are always stored: the others missing are repeats.
		stored := int(n) - (len(rows) - keyed)
		w.ready += stored
		w.duplicates += keyed - stored
		w.n += len(rows)
		return nil
	}
	res, err := w.manyRet.QueryContext(w.ctx, args...)
	if err != nil {
		return fmt.Errorf("store rows %d to %d: %w", first, last, err)
	}
	defer res.Close()
	var stored [3]int // pending, suppressed, skipped
	for res.Next() {
		var kind int
		if err := res.Scan(&kind); err != nil {
			return err
		}
		if kind >= 0 && kind < len(stored) {
			stored[kind]++
		}
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("store rows %d to %d: %w", first, last, err)
	}
	w.ready += stored[0]
	w.suppressedN += stored[1]
	w.duplicates += keyed - stored[0] - stored[1]
	w.n += len(rows)
	return nil
}

// flushOneByOne inserts the buffered rows a statement each, counting
// each keyed row from what its statement changed.
func (w *rowWriter) flushOneByOne(now int64) error {
	for i := range w.buf {
		r := &w.buf[i]
		key, fields := w.keyAndFields(r)
		res, err := w.one.ExecContext(w.ctx, w.id, r.row, r.email, key, fields, r.state, r.reply, now)
		if err != nil {
			return fmt.Errorf("store row %d: %w", r.row, err)
		}
		if n, _ := res.RowsAffected(); r.keyed {
			w.count(r.state == stateSuppressed, n == 1)
		}
	}
	w.n += len(w.buf)
	return nil
}

// keyAndFields are r's key and fields as bound: NULL for a skipped row,
// which never counts as a repeat and is never sent.
func (w *rowWriter) keyAndFields(r *importRow) (key any, fields []byte) {
	if !r.keyed {
		return nil, nil
	}
	return r.key, w.arena[r.fields[0]:r.fields[1]]
}

// count counts one keyed row: stored as ready or suppressed, or dropped.
func (w *rowWriter) count(suppressed, stored bool) {
	switch {
	case !stored:
		w.duplicates++
	case suppressed:
		w.suppressedN++
	default:
		w.ready++
	}
}

func (w *rowWriter) suppressed(key string) (bool, error) {
	if w.noSuppressions {
		return false, nil
	}
	var one int
	err := w.sup.QueryRowContext(w.ctx, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
