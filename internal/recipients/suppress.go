package recipients

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Suppressions is the list of addresses never mailed, in the database.
type Suppressions struct{ DB *sql.DB }

// Suppressed is one entry of the list.
type Suppressed struct {
	Addr    string    `json:"addr"`
	Reason  string    `json:"reason,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// Add suppresses addr (checked first); adding one already there keeps the
// first entry and reports added=false.
func (s *Suppressions) Add(ctx context.Context, addr, reason string) (added bool, err error) {
	if err := CheckAddress(addr); err != nil {
		return false, err
	}
	res, err := s.DB.ExecContext(ctx, `INSERT OR IGNORE INTO suppressions(addr_key, addr, reason, added_at) VALUES (?, ?, ?, ?)`,
		Key(addr), addr, reason, time.Now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("suppress %s: %w", addr, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Remove takes addr off the list; removed=false when it was not on it.
func (s *Suppressions) Remove(ctx context.Context, addr string) (removed bool, err error) {
	res, err := s.DB.ExecContext(ctx, `DELETE FROM suppressions WHERE addr_key = ?`, Key(addr))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// List calls fn for every entry, by address, without loading them all.
func (s *Suppressions) List(ctx context.Context, fn func(Suppressed) error) error {
	rows, err := s.DB.QueryContext(ctx, `SELECT addr, reason, added_at FROM suppressions ORDER BY addr_key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e Suppressed
		var at int64
		if err := rows.Scan(&e.Addr, &e.Reason, &at); err != nil {
			return err
		}
		e.AddedAt = time.UnixMilli(at).UTC()
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Adder adds many addresses, a batch per transaction: an import of
// 100,000 addresses then commits 200 times, not 100,000, and no write
// lock is held for longer than one batch (a delivery in another process
// goes on writing between them). Close it to commit the last batch.
type Adder struct {
	s     *Suppressions
	tx    *sql.Tx
	stmt  *sql.Stmt
	n     int
	batch int
}

// Adder starts adding; batch is the addresses per transaction.
func (s *Suppressions) Adder(batch int) *Adder { return &Adder{s: s, batch: max(batch, 1)} }

// Add is Suppressions.Add within the current batch.
func (a *Adder) Add(ctx context.Context, addr, reason string) (added bool, err error) {
	if err := CheckAddress(addr); err != nil {
		return false, err
	}
	if a.tx == nil {
		if a.tx, err = a.s.DB.BeginTx(ctx, nil); err != nil {
			return false, err
		}
		if a.stmt, err = a.tx.PrepareContext(ctx, `INSERT OR IGNORE INTO suppressions(addr_key, addr, reason, added_at) VALUES (?, ?, ?, ?)`); err != nil {
			a.tx.Rollback()
			a.tx = nil
			return false, err
		}
	}
	res, err := a.stmt.ExecContext(ctx, Key(addr), addr, reason, time.Now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("suppress %s: %w", addr, err)
	}
	n, _ := res.RowsAffected()
	if a.n++; a.n >= a.batch {
		if err := a.commit(); err != nil {
			return false, err
		}
	}
	return n == 1, nil
}

func (a *Adder) commit() error {
	if a.tx == nil {
		return nil
	}
	a.stmt.Close()
	err := a.tx.Commit()
	a.tx, a.stmt, a.n = nil, nil, 0
	return err
}

// Close commits what was added since the last batch.
func (a *Adder) Close() error { return a.commit() }

// Abort gives up the current batch (the ones committed stay).
func (a *Adder) Abort() {
	if a.tx != nil {
		a.stmt.Close()
		a.tx.Rollback()
		a.tx, a.stmt, a.n = nil, nil, 0
	}
}
