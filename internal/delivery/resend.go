package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ReopenFailed puts delivery id's failed recipients (refused by the
// server: 5xx) back to be sent again — after the cause was fixed, say a
// mailbox that did not exist yet — and opens a finished delivery for them.
// Their attempts are kept; the new outcome replaces the old reply. It
// returns how many were put back. The caller holds the delivery's run
// lock, as for Recover.
func ReopenFailed(ctx context.Context, db *sql.DB, id int64) (int, error) {
	var status string
	if err := db.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = ?`, id).Scan(&status); err != nil {
		if err == sql.ErrNoRows {
			return 0, noDelivery(id)
		}
		return 0, err
	}
	if status == StatusCancelled {
		return 0, &usageErr{fmt.Errorf("delivery %d is cancelled: nothing more is sent", id)}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE delivery_recipients SET state = 'pending', reply = '', next_try = 0, updated_at = ?
		WHERE delivery_id = ? AND state = 'failed'`, time.Now().UnixMilli(), id)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if err := rowsPutBack(ctx, tx, id); err != nil {
			return 0, err
		}
	}
	return int(n), tx.Commit()
}
