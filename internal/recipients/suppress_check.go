package recipients

import (
	"context"
	"database/sql"
	"errors"
)

// SuppressionChecker answers "is this address suppressed?" for every row
// of a list with one prepared statement.
type SuppressionChecker struct {
	stmt  *sql.Stmt
	empty bool // the list is empty: no lookups at all
}

// Checker prepares a checker; Close it when done.
func (s *Suppressions) Checker(ctx context.Context) (*SuppressionChecker, error) {
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM suppressions LIMIT 1)`).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return &SuppressionChecker{empty: true}, nil
	}
	stmt, err := s.DB.PrepareContext(ctx, `SELECT 1 FROM suppressions WHERE addr_key = ?`)
	if err != nil {
		return nil, err
	}
	return &SuppressionChecker{stmt: stmt}, nil
}

// Suppressed reports whether the address with key (Key) is suppressed.
func (c *SuppressionChecker) Suppressed(ctx context.Context, key string) (bool, error) {
	if c.empty {
		return false, nil
	}
	var one int
	err := c.stmt.QueryRowContext(ctx, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Close releases the statement.
func (c *SuppressionChecker) Close() error {
	if c.stmt == nil {
		return nil
	}
	return c.stmt.Close()
}
