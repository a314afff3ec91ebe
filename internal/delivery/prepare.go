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
	"strings"
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
	Message string `json:"message"` // in English, as the CLI prints it
	// Code says what is wrong for a face that words it in its own
	// language ("" when no code fits: Message says it); Value, Got and
	// Want fill the words in. See problem_codes.go.
	Code  string `json:"code,omitempty"`
	Value string `json:"value,omitempty"`
	Got   int64  `json:"got,omitempty"`
	Want  int64  `json:"want,omitempty"`
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
type ProblemsError struct {
	P *Preflight
	// NoneLeft: they were to be left out (SkipInvalid), but every row
	// that could be sent has one, so nothing would go.
	NoneLeft bool
}

func (e *ProblemsError) Error() string {
	if e.NoneLeft {
		return fmt.Sprintf("every row of the list has a problem (%d row(s)): leaving them out (--skip-invalid) leaves nobody to send to; nothing was sent: fix the list, or the export that wrote it", e.P.ProblemCount)
	}
	return fmt.Sprintf("%d row(s) of the list have problems; nothing was sent (fix them, or use --skip-invalid to leave them out)", e.P.ProblemCount)
}
func (e *ProblemsError) ExitCode() int { return 2 }

// NoneLeft reports whether every row that could be sent has a problem:
// with the problems left out (SkipInvalid), a run would be "done" at once
// having sent nothing — to a cron job, a broken export that looks like a
// delivery that went well. (Rows on the do-not-mail list are no problem.)
func (pf *Preflight) NoneLeft() bool {
	return pf.Ready == 0 && pf.Suppressed == 0 && pf.ProblemCount > 0
}

// EmptyListError is returned when the list has a header row and no data
// rows: nothing was stored and nothing will be sent. A delivery to nobody
// is refused, not done: an export that came out empty must not look like
// a delivery that went well to a cron job.
type EmptyListError struct{ List string }

func (e *EmptyListError) Error() string {
	return fmt.Sprintf("recipients %s: the list has no recipients (a header row, no rows under it); nothing was sent: check the file, or the export that wrote it", e.List)
}
func (e *EmptyListError) ExitCode() int { return 2 }

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
	// given is the list as the person named it, for the messages.
	given := plan.List
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
	rnd := tpl.NewRenderer().Transient() // each row is composed before the next is rendered
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
			if err := problem(coded(Problem{Row: re.Row, Field: re.Field, Address: row.Email, Message: re.Err.Error()}, re.Err)); err != nil {
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
			if err := problem(coded(p, err)); err != nil {
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
				pf.Notes = append(pf.Notes, Problem{Row: row.Number, Address: row.Email, Message: merge.FallbackNote(content.FellBack),
					Code: CodeFallbackPrefix + strings.ToLower(content.FellBack.Field), Value: string(content.FellBack.Char)})
			}
		}
		pf.LargestBytes = max(pf.LargestBytes, msg.Len())
		if plan.MaxBytes > 0 && msg.Len() > plan.MaxBytes {
			if err := problem(Problem{Row: row.Number, Address: row.Email, Field: spec.AttachColumn,
				Message: fmt.Sprintf("the message would be %d bytes, over the account's limit of %d", msg.Len(), plan.MaxBytes),
				Code:    CodeTooLarge, Got: int64(msg.Len()), Want: int64(plan.MaxBytes)}); err != nil {
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
		if err := w.insertKeyed(row.Number, row.Email, key, blob, state); err != nil {
			return nil, err
		}
	}
	if err := w.close(); err != nil {
		return nil, err
	}
	pf.Ready, pf.Suppressed, pf.Duplicates = w.ready, w.suppressedN, w.duplicates
	if pf.Rows == 0 {
		return pf, &EmptyListError{List: given}
	}
	if pf.ProblemCount > 0 && !plan.SkipInvalid {
		return pf, &ProblemsError{P: pf}
	}
	if plan.DryRun {
		return pf, nil
	}
	if pf.NoneLeft() {
		return pf, &ProblemsError{P: pf, NoneLeft: true}
	}
	// The rows' states as stored, so that the first run need not count
	// every row again (every problem row is stored as skipped).
	stamp, _ := json.Marshal(stampedProgress{Counts: Counts{Pending: pf.Ready, Suppressed: pf.Suppressed, Skipped: pf.ProblemCount}})
	res, err = db.ExecContext(ctx, `UPDATE deliveries SET status = 'ready', total = ?, duplicates = ?, progress = ? WHERE id = ? AND status = 'preparing'`,
		pf.Rows, pf.Duplicates, string(stamp), id)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, removedWhilePreparing(id)
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

// removedWhilePreparing is the error of a preflight whose delivery another
// process took for a leftover (this one was stopped, e.g. suspended, for
// longer than AbandonedAfter) and removed.
func removedWhilePreparing(id int64) error {
	return fmt.Errorf("delivery %d was removed while it was being prepared (this process stood still for over %s): run the command again", id, AbandonedAfter)
}

// AbandonedAfter is how long a hidden delivery may go without a heartbeat
// before it counts as left behind by a process killed during preflight.
// A live preflight stamps it at least every commitEvery.
var AbandonedAfter = 15 * time.Minute

// abandonedBefore is the heartbeat (unix ms) below which a delivery still
// preparing was abandoned.
func abandonedBefore() int64 { return time.Now().Add(-AbandonedAfter).UnixMilli() }

// Preparing returns the IDs of the account's deliveries still being
// prepared by a live preflight (hidden from the lists until it ends; not
// those RemoveAbandoned would remove), oldest first; db is a *sql.DB or a
// *sql.Tx.
func Preparing(ctx context.Context, db querier, account string) ([]int64, error) {
	ids, err := queryIDs(ctx, db, `SELECT id FROM deliveries WHERE account = ? AND status = ? AND heartbeat >= ? ORDER BY id`,
		account, statusPreparing, abandonedBefore())
	if err != nil {
		return nil, fmt.Errorf("deliveries of account %s being prepared: %w", account, err)
	}
	return ids, nil
}

// RemoveAbandoned deletes the deliveries a process left 'preparing' when
// it died in preflight: they were never shown, never sent and could never
// be resumed, only take up space. It returns how many it removed.
func RemoveAbandoned(ctx context.Context, db *sql.DB) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM deliveries WHERE status = 'preparing' AND heartbeat < ?`, abandonedBefore())
	if err != nil {
		return 0, fmt.Errorf("remove deliveries left half-prepared: %w", err)
	}
	return res.RowsAffected()
}
