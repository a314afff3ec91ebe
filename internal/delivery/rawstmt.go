package delivery

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
)

// rawConn runs the statements of many rows (the journal's outcomes and
// claims, the import's rows) through the SQLite driver itself, on the
// connection database/sql lends (Conn.Raw). database/sql would copy every
// value of every statement into a slice made for the call and check each:
// a quarter of a send's allocations, for values of the driver's own types.
// Statements are prepared on first use and kept until close.
type rawConn struct {
	conn   *sql.Conn
	named  []driver.NamedValue // reused for each statement's values
	values []driver.Value      // the same, for a driver without contexts
}

// rawStmt is one statement of a rawConn.
type rawStmt struct {
	sql string
	st  driver.Stmt
}

// exec runs s with args (int, int64, string, []byte or nil) and returns
// the rows it changed.
func (c *rawConn) exec(ctx context.Context, s *rawStmt, args []any) (changed int64, err error) {
	err = c.conn.Raw(func(dc any) error {
		if s.st == nil {
			st, err := prepareDriver(ctx, dc, s.sql)
			if err != nil {
				return err
			}
			s.st = st
		}
		res, err := c.execDriver(ctx, s.st, args)
		if err != nil {
			return err
		}
		changed, err = res.RowsAffected()
		return err
	})
	return changed, err
}

// execDriver runs st with args given to the driver as its own value types.
func (c *rawConn) execDriver(ctx context.Context, st driver.Stmt, args []any) (driver.Result, error) {
	c.named = slices.Grow(c.named[:0], len(args))[:len(args)]
	defer clear(c.named)
	for i, a := range args {
		if n, ok := a.(int); ok {
			a = int64(n)
		}
		c.named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	if sc, ok := st.(driver.StmtExecContext); ok {
		return sc.ExecContext(ctx, c.named)
	}
	// A driver (or a test's wrapper of one) without contexts.
	c.values = slices.Grow(c.values[:0], len(args))[:len(args)]
	defer clear(c.values)
	for i := range c.named {
		c.values[i] = c.named[i].Value
	}
	return st.Exec(c.values)
}

// close closes the statements prepared; the connection stays open.
func (c *rawConn) close(stmts ...*rawStmt) {
	if c.conn == nil {
		return
	}
	c.conn.Raw(func(any) error {
		for _, s := range stmts {
			if s.st != nil {
				s.st.Close()
				s.st = nil
			}
		}
		return nil
	})
}

// prepareDriver prepares query on the driver's connection dc.
func prepareDriver(ctx context.Context, dc any, query string) (driver.Stmt, error) {
	if pc, ok := dc.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, query)
	}
	conn, ok := dc.(driver.Conn)
	if !ok {
		return nil, fmt.Errorf("the database connection is a %T, not a driver.Conn", dc)
	}
	return conn.Prepare(query)
}
