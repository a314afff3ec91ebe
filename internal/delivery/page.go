package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The read side a long-running face needs (the web console): a report a
// page at a time, filtered and searched, and how fast a delivery goes as
// any process can see it in the database.

// ReportQuery selects a page of a delivery's report.
type ReportQuery struct {
	States []string // only rows in these states (none: every row)
	Search string   // only addresses containing this, case-insensitively
	// After is the keyset cursor: the Next of the previous page. It keeps
	// a page as cheap at row 90,000 as at row 1.
	After  int64
	Offset int // rows to skip when After is 0 (a page number's worth)
	Limit  int // rows per page: default 100, at most 1000
}

// ReportPage is one page of a report, in list order.
type ReportPage struct {
	Rows  []Outcomes `json:"rows"`
	Total int        `json:"total"`          // rows matching the query, on every page
	Next  int64      `json:"next,omitempty"` // After for the next page; 0 on the last
}

// States a report can be filtered on.
var ReportStates = []string{stateSent, stateFailed, stateDeferred, stateUnknown, stateSkipped,
	stateSuppressed, stateCancelled, statePending, stateSending}

// Report queries walk the rowid range of the delivery's rows with
// "+delivery_id", like the runner, rather than the (delivery_id,
// email_key) index: a page then costs its own rows, not a sort of them all.
func rowRange(ctx context.Context, db *sql.DB, id int64) (lo, hi int64, err error) {
	var l, h sql.NullInt64
	err = db.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM delivery_recipients WHERE delivery_id = ?`, id).Scan(&l, &h)
	return l.Int64, h.Int64, err
}

// QueryReport returns one page of delivery id's report.
func QueryReport(ctx context.Context, db *sql.DB, id int64, q ReportQuery) (*ReportPage, error) {
	if err := exists(ctx, db, id); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	for _, s := range q.States {
		if !isReportState(s) {
			return nil, &usageErr{fmt.Errorf("outcome %q: use one of %s", s, strings.Join(ReportStates, ", "))}
		}
	}
	lo, hi, err := rowRange(ctx, db, id)
	if err != nil {
		return nil, err
	}
	page := &ReportPage{Rows: []Outcomes{}}
	if hi == 0 {
		return page, nil
	}
	where := `id >= ? AND id <= ? AND +delivery_id = ?`
	args := []any{lo, hi, id}
	if len(q.States) > 0 {
		where += ` AND state IN (?` + strings.Repeat(`, ?`, len(q.States)-1) + `)`
		for _, s := range q.States {
			args = append(args, s)
		}
	}
	if q.Search != "" {
		where += ` AND email LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscaper.Replace(q.Search)+"%")
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM delivery_recipients WHERE `+where, args...).Scan(&page.Total); err != nil {
		return nil, err
	}
	pageWhere, pageArgs := where, append([]any{}, args...)
	if q.After > 0 {
		pageWhere += ` AND id > ?`
		pageArgs = append(pageArgs, q.After)
	}
	pageArgs = append(pageArgs, q.Limit+1)
	offset := ""
	if q.After == 0 && q.Offset > 0 {
		offset = ` OFFSET ?`
		pageArgs = append(pageArgs, q.Offset)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, row, email, state, attempts, reply, next_try, updated_at, via
		FROM delivery_recipients WHERE `+pageWhere+` ORDER BY id LIMIT ?`+offset, pageArgs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var last int64
	for rows.Next() {
		var o Outcomes
		var rid, next, at int64
		if err := rows.Scan(&rid, &o.Row, &o.Email, &o.State, &o.Attempts, &o.Reply, &next, &at, &o.Via); err != nil {
			return nil, err
		}
		if len(page.Rows) == q.Limit {
			page.Next = last
			break
		}
		if o.State == stateDeferred {
			o.NextTry = msTime(next)
		}
		o.At = msTime(at)
		page.Rows = append(page.Rows, o)
		last = rid
	}
	return page, rows.Err()
}

// exists is Get without counting every row's state.
func exists(ctx context.Context, db *sql.DB, id int64) error {
	var one int
	err := db.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return noDelivery(id)
	}
	return err
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func isReportState(s string) bool {
	for _, r := range ReportStates {
		if s == r {
			return true
		}
	}
	return false
}

// RecentlyDone counts delivery id's recipients that got their outcome
// (sent or failed) at or after since: divided by the time, the rate a
// process that does not run the delivery can show.
func RecentlyDone(ctx context.Context, db *sql.DB, id int64, since time.Time) (int, error) {
	lo, hi, err := rowRange(ctx, db, id)
	if err != nil || hi == 0 {
		return 0, err
	}
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM delivery_recipients WHERE id >= ? AND id <= ? AND +delivery_id = ?
		AND state IN ('sent', 'failed') AND updated_at >= ?`, lo, hi, id, since.UnixMilli()).Scan(&n)
	return n, err
}

// ErrStarted is returned by Discard for a delivery that has begun sending:
// its report is a record of mail that went out and stays.
var ErrStarted = errors.New("the delivery has started sending")

// Discard deletes a delivery that was prepared but never started (its
// sign-in check failed, say), with its rows and attachments.
func Discard(ctx context.Context, db *sql.DB, id int64) error {
	res, err := db.ExecContext(ctx, `DELETE FROM deliveries WHERE id = ? AND started_at = 0 AND status IN ('ready', 'preparing')`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := exists(ctx, db, id); err != nil {
			return err
		}
		return fmt.Errorf("delivery %d: %w", id, ErrStarted)
	}
	return nil
}
