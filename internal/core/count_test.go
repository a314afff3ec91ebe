package core

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// countQueries makes svc read and write through a handle that counts the
// queries whose text contains match, until the test ends (then svc has its
// own handle back, for Close). What a page costs in reads is asserted with
// it: "once per request" is not otherwise visible from outside.
func countQueries(t *testing.T, svc *Service, match string) *atomic.Int64 {
	t.Helper()
	n := new(atomic.Int64)
	h := sql.OpenDB(countingConnector{base: svc.db.Driver(), n: n, match: match,
		dsn: "file:" + filepath.ToSlash(svc.db.Path) + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_journal_mode=WAL&_pragma=synchronous(NORMAL)"})
	own := svc.db.DB
	svc.db.DB = h
	t.Cleanup(func() {
		svc.db.DB = own
		h.Close()
	})
	return n
}

// countingConnector opens the database through base; its connections
// offer only Prepare, so every query goes through a counted statement.
type countingConnector struct {
	base  driver.Driver
	dsn   string
	match string
	n     *atomic.Int64
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
	return countingStmt{st, cc.c.n}, nil
}

type countingStmt struct {
	driver.Stmt
	n *atomic.Int64
}

func (s countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.n.Add(1)
	return s.Stmt.Query(args)
}
