// Package storetest holds helpers for tests that need to see what a
// database handle is asked.
package storetest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// CountingHandle is a second handle on db's file that counts the queries
// run with a statement whose text contains match; it closes when the test
// ends. What a page or a run costs in reads ("once per request", "no
// count of every row") is not otherwise visible from outside.
func CountingHandle(t testing.TB, db *store.DB, match string) (*sql.DB, *atomic.Int64) {
	t.Helper()
	c := countingConnector{base: db.Driver(), dsn: db.DSN, match: match, n: new(atomic.Int64)}
	return c.open(t), c.n
}

// Args is what the queries a RecordingHandle matched were asked with, in
// order.
type Args struct {
	mu   sync.Mutex
	args [][]driver.Value
}

// All returns a copy of the arguments recorded so far, one slice a query.
func (a *Args) All() [][]driver.Value {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]driver.Value(nil), a.args...)
}

// RecordingHandle is CountingHandle that also keeps each matched query's
// arguments: where a scan started, say, which the rows it returns do not
// tell.
func RecordingHandle(t testing.TB, db *store.DB, match string) (*sql.DB, *Args) {
	t.Helper()
	c := countingConnector{base: db.Driver(), dsn: db.DSN, match: match, n: new(atomic.Int64), rec: new(Args)}
	return c.open(t), c.rec
}

// countingConnector opens the database through base; its connections
// offer only Prepare, so every query goes through a statement it can
// count.
type countingConnector struct {
	base  driver.Driver
	dsn   string
	match string
	n     *atomic.Int64
	rec   *Args // nil: count only
}

// open is a handle through c, closed when the test ends.
func (c countingConnector) open(t testing.TB) *sql.DB {
	h := sql.OpenDB(c)
	t.Cleanup(func() { h.Close() })
	return h
}

func (c countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.base.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, c}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.base }

type countingConn struct {
	driver.Conn
	c countingConnector
}

func (cc countingConn) Prepare(query string) (driver.Stmt, error) {
	st, err := cc.Conn.Prepare(query)
	if err != nil || !strings.Contains(query, cc.c.match) {
		return st, err
	}
	return countingStmt{st, cc.c.n, cc.c.rec}, nil
}

type countingStmt struct {
	driver.Stmt
	n   *atomic.Int64
	rec *Args
}

func (s countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.n.Add(1)
	if s.rec != nil {
		s.rec.mu.Lock()
		s.rec.args = append(s.rec.args, append([]driver.Value(nil), args...))
		s.rec.mu.Unlock()
	}
	return s.Stmt.Query(args)
}
