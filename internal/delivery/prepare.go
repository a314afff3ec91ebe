package delivery

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// Plan is everything a new delivery is made from.
type Plan struct {
	Name        string
	Account     string
	MaxBytes    int // the provider's size limit of one message (0: none)
	Spec        merge.Spec
	Attachments []merge.Attachment // common attachments
	List        string             // recipient list file
	ListOptions recipients.Options
	SkipInvalid bool // leave rows with problems out (listed as skipped) instead of refusing
	DryRun      bool // check everything, store nothing
	// NoChunking is kept with the delivery: every run of it sends with
	// DATA instead of BDAT (for servers that mishandle CHUNKING).
	NoChunking bool
}

// Problem is one thing wrong with one row of the list.
type Problem struct {
	Row     int    `json:"row"`
	Field   string `json:"field,omitempty"`
	Address string `json:"address,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	s := fmt.Sprintf("row %d", p.Row)
	if p.Field != "" {
		s += ", " + p.Field
	}
	return s + ": " + p.Message
}

// MaxProblemsKept bounds the problems kept in memory for the preflight
// report; every one is counted, and with --skip-invalid every one is in
// the delivery's report.
const MaxProblemsKept = 1000

// Preflight is what checking a plan found.
type Preflight struct {
	DeliveryID   int64     `json:"delivery_id,omitempty"` // 0 in a dry run or when refused
	Rows         int       `json:"rows"`                  // data rows read
	Ready        int       `json:"ready"`                 // recipients to send to
	Duplicates   int       `json:"duplicates"`
	Suppressed   int       `json:"suppressed"`
	ProblemCount int       `json:"problem_count"`
	Problems     []Problem `json:"problems,omitempty"` // the first MaxProblemsKept
	Encoding     string    `json:"encoding"`
	LargestBytes int       `json:"largest_message_bytes"`
	// UTF8Fallbacks counts the messages asked for in ISO-2022-JP that go
	// as UTF-8 (a character JIS X 0208 lacks, such as 髙, ① or an emoji);
	// Notes names the first MaxProblemsKept of them.
	UTF8Fallbacks int       `json:"utf8_fallbacks"`
	Notes         []Problem `json:"notes,omitempty"`
}

// ProblemsError is returned when rows have problems and SkipInvalid is off:
// nothing was stored and nothing will be sent.
type ProblemsError struct{ P *Preflight }

func (e *ProblemsError) Error() string {
	return fmt.Sprintf("%d row(s) of the list have problems; nothing was sent (fix them, or use --skip-invalid to leave them out)", e.P.ProblemCount)
}
func (e *ProblemsError) ExitCode() int { return 2 }

// Prepare reads the whole list once, row by row: checks every address,
// drops duplicates and suppressed addresses, renders every message once
// (so a missing field or a missing or oversized attachment is found now)
// and stores each row with its state. Unless plan.DryRun, the delivery is
// left "ready" for Run. Rows are written in batches inside transactions;
// only the duplicate check's unique index, not a Go map, knows the
// addresses seen, so memory does not grow with the list.
func Prepare(ctx context.Context, db *sql.DB, plan Plan) (*Preflight, error) {
	if _, err := RemoveAbandoned(ctx, db); err != nil {
		return nil, err
	}
	list, err := recipients.Open(plan.List, plan.ListOptions)
	if err != nil {
		return nil, &usageErr{err}
	}
	defer list.Close()
	spec := plan.Spec
	merge.DefaultAttachDir(&spec, plan.List)
	spec.MaxBytes = plan.MaxBytes // rendering stops at it
	if abs, err := filepath.Abs(plan.List); err == nil {
		plan.List = abs
	}
	tpl, err := merge.Compile(spec, list.Header(), list.EmailIndex(), plan.Attachments)
	if err != nil {
		return nil, &usageErr{err}
	}
	spec = tpl.Spec()
	pf := &Preflight{Encoding: list.Encoding}
	now := time.Now().UnixMilli()

	cols, _ := json.Marshal(list.Header())
	tj, _ := json.Marshal(spec)
	name := plan.Name
	if name == "" {
		name = fmt.Sprintf("%s %s", filepath.Base(plan.List), time.Now().Format("2006-01-02 15:04"))
	}
	oj, _ := json.Marshal(storedOptions{EmailColumn: list.Header()[list.EmailIndex()], Encoding: list.Encoding, NoChunking: plan.NoChunking})
	res, err := db.ExecContext(ctx, `INSERT INTO deliveries(name, account, status, source, columns_json, template_json, options_json, created_at, heartbeat)
		VALUES (?, ?, 'preparing', ?, ?, ?, ?, ?, ?)`, name, plan.Account, plan.List, string(cols), string(tj), string(oj), now, now)
	if err != nil {
		return nil, fmt.Errorf("create delivery: %w", err)
	}
	id, _ := res.LastInsertId()
	keep := false
	defer func() {
		if !keep { // a refused plan or a dry run leaves nothing behind
			db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM deliveries WHERE id = ?`, id)
		}
	}()
	for i, a := range plan.Attachments {
		if _, err := db.ExecContext(ctx, `INSERT INTO delivery_attachments(delivery_id, position, filename, content_type, data) VALUES (?, ?, ?, ?, ?)`,
			id, i, a.Filename, a.ContentType, a.Data); err != nil {
			return nil, fmt.Errorf("store attachment %s: %w", a.Filename, err)
		}
	}

	w, err := newRowWriter(ctx, db, id)
	if err != nil {
		return nil, err
	}
	defer w.close()
	rnd := tpl.NewRenderer()
	var content merge.Content
	var msg bytes.Buffer
	var blob []byte
	problem := func(p Problem) error {
		pf.ProblemCount++
		if len(pf.Problems) < MaxProblemsKept {
			pf.Problems = append(pf.Problems, p)
		}
		return w.insertSkipped(p.Row, p.Address, p.String())
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row, err := list.Next()
		if err == io.EOF {
			break
		}
		pf.Rows++
		var re *recipients.RowError
		if errors.As(err, &re) {
			if err := problem(Problem{Row: re.Row, Field: re.Field, Address: row.Email, Message: re.Err.Error()}); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("recipients %s: %w", plan.List, err)
		}
		key := recipients.Key(row.Email)
		if err := rnd.Render(row.Fields, &content); err != nil {
			p := Problem{Row: row.Number, Address: row.Email, Message: err.Error()}
			var fe *merge.FieldError
			if errors.As(err, &fe) {
				p.Field, p.Message = fe.Field, fe.Err.Error()
			}
			if err := problem(p); err != nil {
				return nil, err
			}
			continue
		}
		if err := tpl.Compose(&content, merge.Envelope{MessageID: "preflight@check"}, &msg); err != nil {
			if err := problem(Problem{Row: row.Number, Address: row.Email, Message: err.Error()}); err != nil {
				return nil, err
			}
			continue
		}
		if content.FellBack != nil {
			pf.UTF8Fallbacks++
			if len(pf.Notes) < MaxProblemsKept {
				pf.Notes = append(pf.Notes, Problem{Row: row.Number, Address: row.Email, Message: merge.FallbackNote(content.FellBack)})
			}
		}
		pf.LargestBytes = max(pf.LargestBytes, msg.Len())
		if plan.MaxBytes > 0 && msg.Len() > plan.MaxBytes {
			if err := problem(Problem{Row: row.Number, Address: row.Email, Field: spec.AttachColumn,
				Message: fmt.Sprintf("the message would be %d bytes, over the account's limit of %d", msg.Len(), plan.MaxBytes)}); err != nil {
				return nil, err
			}
			continue
		}
		state := statePending
		if sup, err := w.suppressed(key); err != nil {
			return nil, err
		} else if sup {
			state = stateSuppressed
		}
		blob = appendFields(blob[:0], row.Fields)
		added, err := w.insertKeyed(row.Number, row.Email, key, blob, state)
		if err != nil {
			return nil, err
		}
		switch {
		case !added:
			pf.Duplicates++
		case state == stateSuppressed:
			pf.Suppressed++
		default:
			pf.Ready++
		}
	}
	if err := w.close(); err != nil {
		return nil, err
	}
	if pf.ProblemCount > 0 && !plan.SkipInvalid {
		return pf, &ProblemsError{P: pf}
	}
	if plan.DryRun {
		return pf, nil
	}
	res, err = db.ExecContext(ctx, `UPDATE deliveries SET status = 'ready', total = ?, duplicates = ? WHERE id = ? AND status = 'preparing'`,
		pf.Rows, pf.Duplicates, id)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// Another process took it for a leftover (this one was stopped,
		// e.g. suspended, for longer than AbandonedAfter).
		return nil, fmt.Errorf("delivery %d was removed while it was being prepared (this process stood still for over %s): run the command again", id, AbandonedAfter)
	}
	keep = true
	pf.DeliveryID = id
	return pf, nil
}

// storedOptions is a delivery's options_json.
type storedOptions struct {
	EmailColumn string `json:"email_column"`
	Encoding    string `json:"encoding"`
	NoChunking  bool   `json:"no_chunking,omitempty"`
}

// usageErr marks bad input (exit code 2).
type usageErr struct{ error }

func (e *usageErr) Unwrap() error { return e.error }
func (e *usageErr) ExitCode() int { return 2 }

// rowWriter inserts recipient rows in transactions of a few thousand rows.
type rowWriter struct {
	ctx   context.Context
	db    *sql.DB
	id    int64
	tx    *sql.Tx
	ins   *sql.Stmt
	sup   *sql.Stmt
	n     int
	last  int64 // unix ms of the last commit
	close func() error
	// noSuppressions skips the per-row lookup when the list is empty.
	noSuppressions bool
}

const rowsPerTx = 5000

// commitEvery bounds the time between commits (and so between heartbeats)
// when rows are slow to come, e.g. large per-recipient attachments.
const commitEvery = time.Minute

func newRowWriter(ctx context.Context, db *sql.DB, id int64) (*rowWriter, error) {
	w := &rowWriter{ctx: ctx, db: db, id: id, last: time.Now().UnixMilli()}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM suppressions LIMIT 1)`).Scan(&n); err != nil {
		return nil, err
	}
	w.noSuppressions = n == 0
	w.close = func() error {
		if w.tx == nil {
			return nil
		}
		err := w.commit(time.Now().UnixMilli())
		w.tx = nil
		return err
	}
	return w, w.begin()
}

func (w *rowWriter) begin() error {
	tx, err := w.db.BeginTx(w.ctx, nil)
	if err != nil {
		return err
	}
	w.tx = tx
	if w.ins, err = tx.PrepareContext(w.ctx, `INSERT OR IGNORE INTO delivery_recipients(delivery_id, row, email, email_key, fields, state, reply, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		return err
	}
	w.sup, err = tx.PrepareContext(w.ctx, `SELECT 1 FROM suppressions WHERE addr_key = ?`)
	return err
}

// commit stamps the delivery's heartbeat and commits the rows with it.
func (w *rowWriter) commit(now int64) error {
	if _, err := w.tx.ExecContext(w.ctx, `UPDATE deliveries SET heartbeat = ? WHERE id = ?`, now, w.id); err != nil {
		w.tx.Rollback()
		return err
	}
	w.last = now
	return w.tx.Commit()
}

func (w *rowWriter) step(now int64) error {
	w.n++
	if w.n%rowsPerTx != 0 && now-w.last < commitEvery.Milliseconds() {
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
	now := time.Now().UnixMilli()
	if _, err := w.ins.ExecContext(w.ctx, w.id, row, email, nil, []byte(nil), stateSkipped, reason, now); err != nil {
		return fmt.Errorf("store row %d: %w", row, err)
	}
	return w.step(now)
}

func (w *rowWriter) insertKeyed(row int, email, key string, fields []byte, state string) (bool, error) {
	now := time.Now().UnixMilli()
	res, err := w.ins.ExecContext(w.ctx, w.id, row, email, key, fields, state, "", now)
	if err != nil {
		return false, fmt.Errorf("store row %d: %w", row, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, w.step(now)
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

// AbandonedAfter is how long a hidden delivery may go without a heartbeat
// before it counts as left behind by a process killed during preflight.
// A live preflight stamps it at least every commitEvery.
var AbandonedAfter = 15 * time.Minute

// RemoveAbandoned deletes the deliveries a process left 'preparing' when
// it died in preflight: they were never shown, never sent and could never
// be resumed, only take up space. It returns how many it removed.
func RemoveAbandoned(ctx context.Context, db *sql.DB) (int64, error) {
	cut := time.Now().Add(-AbandonedAfter).UnixMilli()
	res, err := db.ExecContext(ctx, `DELETE FROM deliveries WHERE status = 'preparing' AND heartbeat < ?`, cut)
	if err != nil {
		return 0, fmt.Errorf("remove deliveries left half-prepared: %w", err)
	}
	return res.RowsAffected()
}
