// Package delivery is the bulk delivery engine: a delivery and one row per
// recipient in SQLite, workers on the account's SMTP connections, the
// account's limits, retries, and a journal from which any crash is resumed
// with only the messages then in the server's hands left uncertain.
package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// Recipient states.
const (
	statePending    = "pending"
	stateSending    = "sending"
	stateSent       = "sent"
	stateFailed     = "failed"
	stateDeferred   = "deferred"
	stateUnknown    = "unknown"
	stateSkipped    = "skipped"
	stateSuppressed = "suppressed"
	stateCancelled  = "cancelled"
)

// Delivery statuses.
const (
	statusPreparing = "preparing" // hidden: preflight is importing the list
	StatusReady     = "ready"
	StatusRunning   = "running"
	StatusPaused    = "paused"
	StatusDone      = "done"
	StatusCancelled = "cancelled"
)

// Mailer is one SMTP session: Send hands one message to the server and
// returns its reply. Errors branch on Uncertain() (the connection broke
// while the server had the message: recorded unknown, never retried by
// itself), AuthFailure(), Temporary() (4xx, network: retried later);
// anything else is permanent for that recipient.
type Mailer interface {
	Send(ctx context.Context, from string, to []string, msg []byte) (reply string, err error)
	Close() error
}

// Item is one message for BatchMailer.SendBatch; Reply and Err are filled
// in with its outcome.
type Item struct {
	To    []string
	Msg   []byte
	Reply string
	Err   error
}

// BatchMailer is a Mailer that keeps several messages in flight on its
// session (SMTP PIPELINING), so they share round trips. Each item's Err
// follows Send's contract, plus NotSent() true: the message was never
// handed to the server (the session broke before it) and may be sent again
// at once on another session. Replies are read before SendBatch returns,
// so a row's outcome is still written only after the server's reply.
type BatchMailer interface {
	Mailer
	SendBatch(ctx context.Context, from string, items []Item)
}

// Dialer opens an authenticated session. refresh asks for a freshly
// refreshed token (after the server refused one). Errors implementing
// NeedsSignIn() true mean a person must sign in again.
type Dialer func(ctx context.Context, refresh bool) (Mailer, error)

// Options tune the engine; zero values take the defaults in brackets.
type Options struct {
	Limits       provider.Limits // the account's limits (provider presets, changed by the user)
	Clock        Clock           // [real time]
	RetryBase    time.Duration   // first retry after a temporary failure, doubling [1m]
	RetryMax     time.Duration   // longest wait between retries [1h]
	MaxAttempts  int             // attempts before a temporary failure becomes a failure [5]
	MaxDailyWait time.Duration   // wait this long for the daily window, else pause [15m]
	PollInterval time.Duration   // how often pause/cancel from another process is checked between claims [500ms]
	DialRetries  int             // connection attempts before pausing [3]
	// Progress is called every ProgressEvery while the run lasts, whether
	// or not anything was answered meanwhile, and once at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration // [500ms]
	// Window is how many messages a connection has in flight at most
	// (SMTP PIPELINING): a crash leaves at most Connections × Window
	// recipients unknown [16].
	Window int
	// StopGrace is how long, after a pause or Ctrl-C, the replies to
	// messages already written are awaited before their connection is
	// closed and they are recorded unknown [1s].
	StopGrace time.Duration
	Headers   map[string]string
	// OnlyCause, when set, lets Run start only a delivery paused for this
	// cause (the scheduler resumes only pauses by the daily limit):
	// paused by hand, cancelled or resumed by someone else before the
	// run starts, it is left as it is and Run returns ErrNotPausedFor.
	OnlyCause string
	// Scheduled: the run is a job of the scheduler (serve, the console's
	// scheduler), whose stopping is what ends ctx. It pauses then with
	// CauseSchedulerStopped, due at once, so that the next scheduler goes
	// on with it; a person's run that ctx ends (Ctrl-C) waits for them.
	Scheduled bool
}

// ErrNotPausedFor is Run's error, with Options.OnlyCause, for a delivery
// that is not paused for that cause (any more); nothing was changed.
var ErrNotPausedFor = errors.New("the delivery is no longer paused for the cause it was to be resumed from")

func (o *Options) defaults() {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	orDefault(&o.Limits.Connections, 1)
	orDefault(&o.RetryBase, time.Minute)
	orDefault(&o.RetryMax, time.Hour)
	orDefault(&o.MaxAttempts, 5)
	orDefault(&o.MaxDailyWait, 15*time.Minute)
	orDefault(&o.PollInterval, 500*time.Millisecond)
	orDefault(&o.DialRetries, 3)
	orDefault(&o.Window, 16)
	orDefault(&o.ProgressEvery, 500*time.Millisecond)
	orDefault(&o.StopGrace, time.Second)
}

// orDefault sets *p to def when it is zero or negative.
func orDefault[T int | time.Duration](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

// job is one recipient on its way through the engine.
type job struct {
	id       int64
	email    string
	fields   []byte
	attempts int
	from     string // the state it was read in, to put back if never sent
	claimed  bool   // marked sending in the database
	carried  int    // times a broken batch gave it back unsent

	state   string // outcome
	reply   string
	via     string // the session's way (smtp, graph, gmail-api); "" when never handed over
	nextTry int64
	at      int64
}

// stop reasons
type stopReason struct {
	status      string
	cause       string // Cause…
	reason      string
	resumeAfter time.Time
	passing     bool // Outcome.Passing
}

// Engine runs deliveries stored in db.
type Engine struct {
	DB   *sql.DB
	Dial Dialer
	Opts Options
}

// run is the state of one Run.
type run struct {
	e       *Engine
	o       Options
	id      int64
	account string
	tpl     *merge.Template
	from    string

	work    chan *job     // rows read and let through the throttle, not yet claimed
	commits chan *commit  // workers' outcomes and claims, for the ledger
	done    chan struct{} // closed when every worker has returned

	stopOnce sync.Once
	stopCh   chan struct{}
	stopCtx  context.Context // cancelled by a stop: ends dials under way
	stopDial context.CancelFunc
	// sendCtx is never cancelled: a stop lets the messages written finish
	// (Stopper bounds the wait) instead of cutting their connections.
	sendCtx context.Context
	stop    stopReason

	smu      sync.Mutex
	sessions map[*sender]Mailer // open sessions, told to finish when the run stops

	sentThisRun atomic.Int64
	noDial      atomic.Bool // a connection failure stopped the run: workers stop dialing

	mu      sync.Mutex
	counts  Counts
	started time.Time

	loaded struct{ status, cause string } // as load read them
}

// changedAsItStarted is the outcome of a run that did not start: the
// delivery was paused or cancelled between load and its start, and is
// left as that made it.
func (r *run) changedAsItStarted(ctx context.Context) (*Outcome, error) {
	out := &Outcome{ID: r.id}
	var resume int64
	err := r.e.DB.QueryRowContext(ctx, `SELECT status, cause, reason, resume_after FROM deliveries WHERE id = ?`, r.id).
		Scan(&out.Status, &out.Cause, &out.Reason, &resume)
	if err != nil {
		return nil, err
	}
	if out.Status != StatusPaused && out.Status != StatusCancelled {
		return nil, fmt.Errorf("delivery %d changed to %s as it was being started: not started", r.id, out.Status)
	}
	if resume > 0 {
		out.ResumeAfter = time.UnixMilli(resume)
	}
	out.SignIn = out.Cause == CauseSignIn
	if out.Counts, err = countStates(ctx, r.e.DB, r.id); err != nil {
		return nil, err
	}
	return out, nil
}

// Stopper is a Mailer that can be told, from another goroutine, to finish
// soon: write no further message, await the replies to those written until
// deadline (then give up on them: Uncertain), and Close quickly.
type Stopper interface {
	Stop(deadline time.Time)
}

// halt stops the run: no message is written after it; replies to those
// already written are awaited for StopGrace at most, and recorded. The
// first reason wins.
func (r *run) halt(s stopReason) {
	r.stopOnce.Do(func() {
		r.smu.Lock()
		r.stop = s
		close(r.stopCh)
		r.stopDial()
		deadline := time.Now().Add(r.o.StopGrace)
		for _, m := range r.sessions {
			if st, ok := m.(Stopper); ok {
				st.Stop(deadline)
			}
		}
		r.smu.Unlock()
	})
}

func (r *run) stopped() bool {
	select {
	case <-r.stopCh:
		return true
	default:
		return false
	}
}

// session records w's open session (nil: none), so that a stop reaches
// it; it reports false, recording nothing, once the run has stopped.
func (r *run) session(w *sender, m Mailer) bool {
	r.smu.Lock()
	defer r.smu.Unlock()
	if m == nil {
		delete(r.sessions, w)
		return true
	}
	if r.stopped() {
		return false
	}
	r.sessions[w] = m
	return true
}

// Run sends delivery id until every recipient has an outcome, or it is
// paused (ctx cancelled, `deliveries pause`, daily limit, sign-in needed)
// or cancelled. Rows left `sending` by a crash must have been turned into
// `unknown` by Resume first; Run refuses to start otherwise.
//
// A row is marked `sending` just before its message is written, in the
// same transaction that records the outcomes of the connection's previous
// window: a crash at any moment leaves at most Connections × Window rows
// `sending` (unknown), those whose messages were then with the server.
func (e *Engine) Run(ctx context.Context, id int64) (*Outcome, error) {
	o := e.Opts
	o.defaults()
	r := &run{e: e, o: o, id: id, stopCh: make(chan struct{}), sessions: map[*sender]Mailer{}}
	r.stopCtx, r.stopDial = context.WithCancel(context.WithoutCancel(ctx))
	defer r.stopDial()
	// No database call takes ctx: in-flight outcomes are recorded after
	// Ctrl-C, and a cancellable context would make the SQLite driver start
	// a goroutine per statement to watch it.
	bg := context.WithoutCancel(ctx)
	r.sendCtx = bg
	if err := r.load(bg); err != nil {
		return nil, err
	}
	if r.counts.Sending > 0 {
		return nil, fmt.Errorf("delivery %d has %d recipient(s) left 'sending' by an interrupted run: run 'bluemoon deliveries resume %d'", id, r.counts.Sending, id)
	}
	th := NewThrottle(o.Limits.PerMinute, o.Limits.PerDay, o.Clock.Now())
	if err := seedThrottle(bg, e.DB, r.account, th, o.Clock.Now()); err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	// Only as load found it: a pause or cancel asked meanwhile (they
	// change a delivery that is not running at once, without its lock)
	// holds, instead of being overwritten by 'running'.
	// A run not started by the scheduler's resume (a person's) starts the
	// count of that resume's failures afresh; the scheduler's keeps it,
	// and clears it itself once a resume did not fail.
	res, err := e.DB.ExecContext(bg, `UPDATE deliveries SET status = 'running', cause = '', reason = '', control = '', resume_after = 0, heartbeat = ?, progress = '',
		resume_failing_since = CASE WHEN ? THEN resume_failing_since ELSE 0 END,
		started_at = CASE started_at WHEN 0 THEN ? ELSE started_at END WHERE id = ? AND status = ? AND cause = ?`, now, o.OnlyCause != "", now, id, r.loaded.status, r.loaded.cause)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 0 {
		if o.OnlyCause != "" {
			return nil, fmt.Errorf("delivery %d: %w", id, ErrNotPausedFor)
		}
		return r.changedAsItStarted(bg)
	}
	r.started = time.Now()
	// Jobs wait here unclaimed for a worker: a stop leaves them pending.
	r.work = make(chan *job, o.Limits.Connections*o.Window)
	r.commits = make(chan *commit, o.Limits.Connections)
	r.done = make(chan struct{})

	// Ctrl-C stops the run like `deliveries pause`.
	stopWatch := context.AfterFunc(ctx, func() {
		if o.Scheduled {
			r.halt(stopReason{status: StatusPaused, cause: CauseSchedulerStopped, resumeAfter: time.Now(),
				reason: "interrupted: the scheduler running it (bluemoon serve or the console) stopped; the next one resumes it"})
			return
		}
		r.halt(stopReason{status: StatusPaused, cause: CauseStopped, reason: "interrupted"})
	})
	defer stopWatch()

	ledgerDone := make(chan error, 1)
	go func() { ledgerDone <- r.ledger(bg, th) }()
	var wg sync.WaitGroup
	for i := 0; i < o.Limits.Connections; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker()
		}()
	}
	wg.Wait()
	close(r.done)
	lerr := <-ledgerDone
	if lerr != nil {
		r.halt(stopReason{status: StatusPaused, cause: CauseOther, reason: lerr.Error()})
	}
	out, err := r.finish(bg, lerr != nil)
	if err != nil {
		return nil, err
	}
	return out, lerr
}

func (r *run) load(ctx context.Context) error {
	var status, cols, tj, optJSON, stamp string
	var started int64
	err := r.e.DB.QueryRowContext(ctx, `SELECT account, status, cause, columns_json, template_json, options_json, started_at, progress FROM deliveries WHERE id = ?`, r.id).
		Scan(&r.account, &status, &r.loaded.cause, &cols, &tj, &optJSON, &started, &stamp)
	r.loaded.status = status
	if errors.Is(err, sql.ErrNoRows) {
		return &usageErr{fmt.Errorf("no delivery %d (see 'bluemoon deliveries list')", r.id)}
	}
	if err != nil {
		return err
	}
	if r.o.OnlyCause != "" && (status != StatusPaused || r.loaded.cause != r.o.OnlyCause) {
		return fmt.Errorf("delivery %d is %s (%s): %w", r.id, status, r.loaded.cause, ErrNotPausedFor)
	}
	switch status {
	case StatusDone, StatusCancelled:
		return &usageErr{fmt.Errorf("delivery %d is %s", r.id, status)}
	case statusPreparing:
		return &usageErr{fmt.Errorf("delivery %d was never fully prepared", r.id)}
	}
	var columns []string
	var spec merge.Spec
	if err := json.Unmarshal([]byte(cols), &columns); err != nil {
		return fmt.Errorf("delivery %d: columns: %w", r.id, err)
	}
	if err := json.Unmarshal([]byte(tj), &spec); err != nil {
		return fmt.Errorf("delivery %d: template: %w", r.id, err)
	}
	atts, err := loadAttachments(ctx, r.e.DB, r.id)
	if err != nil {
		return err
	}
	var opts storedOptions
	json.Unmarshal([]byte(optJSON), &opts)
	emailIdx := -1
	for i, c := range columns {
		if c == opts.EmailColumn {
			emailIdx = i
		}
	}
	if emailIdx < 0 {
		return fmt.Errorf("delivery %d: the address column %q is not among the stored columns", r.id, opts.EmailColumn)
	}
	if r.tpl, err = merge.Compile(spec, columns, emailIdx, atts); err != nil {
		return fmt.Errorf("delivery %d: template: %w", r.id, err)
	}
	r.from = spec.From
	// A delivery never run has its rows as Prepare stored them, and their
	// counts with them: counting every row again cost a send ~4 % of its
	// CPU; one paused by a run's end has the counts that run stamped (see
	// finalStamp). Otherwise only the rows say what happened (a live or
	// dead run's stamp may be a second old).
	if sp, ok := readStamp(stamp); ok && (status == StatusReady && started == 0 || status == StatusPaused && sp.Final) {
		r.counts = sp.Counts
		return nil
	}
	r.counts, err = countStates(ctx, r.e.DB, r.id)
	return err
}

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func loadAttachments(ctx context.Context, db *sql.DB, id int64) ([]merge.Attachment, error) {
	rows, err := db.QueryContext(ctx, `SELECT filename, content_type, data FROM delivery_attachments WHERE delivery_id = ? ORDER BY position`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []merge.Attachment
	for rows.Next() {
		var a merge.Attachment
		if err := rows.Scan(&a.Filename, &a.ContentType, &a.Data); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func countStates(ctx context.Context, db querier, id int64) (Counts, error) {
	var c Counts
	rows, err := db.QueryContext(ctx, `SELECT state, COUNT(*) FROM delivery_recipients WHERE delivery_id = ? GROUP BY state`, id)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return c, err
		}
		c.add(s, n)
	}
	return c, rows.Err()
}

func seedThrottle(ctx context.Context, db *sql.DB, account string, th *Throttle, now time.Time) error {
	rows, err := db.QueryContext(ctx, `SELECT minute, count FROM send_log WHERE account = ? AND minute > ?`, account, now.Unix()/60-1440)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m int64
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			return err
		}
		th.Seed(m, n, now)
	}
	return rows.Err()
}

// finish records how the run ended. A pause or cancel asked after the
// ledger last looked at the flag (it looks every PollInterval, and not
// after the rows run out or the daily limit stops it) is honoured here:
// it is read once more, and the end is recorded only if no other was
// asked meanwhile, for the flag is cleared with it and no run would see
// it again. Four reads always suffice: while the delivery runs its flag
// only goes from none to pause or cancel, and from pause to cancel (a
// cancel stays, see requestOnce), so it changes twice at most.
func (r *run) finish(ctx context.Context, journalFailed bool) (*Outcome, error) {
	for try := 0; ; try++ {
		out, recorded, err := r.finishOnce(ctx, journalFailed)
		if err != nil {
			return nil, err
		}
		if recorded || try == 3 {
			if r.o.Progress != nil {
				r.o.Progress(r.progress())
			}
			return out, nil
		}
	}
}

// finishOnce is finish with the flag as it reads it now; recorded is false
// when the flag changed before the end was written.
func (r *run) finishOnce(ctx context.Context, journalFailed bool) (out *Outcome, recorded bool, err error) {
	db := r.e.DB
	var ctl string
	if err := db.QueryRowContext(ctx, `SELECT control FROM deliveries WHERE id = ?`, r.id).Scan(&ctl); err != nil {
		return nil, false, err
	}
	out = &Outcome{ID: r.id, Status: StatusDone}
	if r.stopped() {
		out.Status, out.Cause, out.Reason, out.SignIn, out.ResumeAfter = r.stop.status, r.stop.cause, r.stop.reason, r.stop.cause == CauseSignIn, r.stop.resumeAfter
		out.Passing = r.stop.passing
	}
	now := time.Now().UnixMilli()
	// The ledger kept the counts as it committed each change; only a
	// cancel or a journal that failed leaves the database saying
	// something else.
	r.mu.Lock()
	out.Counts = r.counts
	r.mu.Unlock()
	if c := out.Counts; ctl == "cancel" && out.Status != StatusCancelled && c.Pending+c.Deferred+c.Sending > 0 {
		out = &Outcome{ID: r.id, Status: StatusCancelled, Cause: CauseCancelled, Reason: "cancelled", Counts: c}
	}
	if out.Status == StatusCancelled || journalFailed {
		var c Counts
		var err error
		if out.Status == StatusCancelled {
			c, err = cancelRows(ctx, db, r.id)
			ctl = "" // cleared with the rows
		} else {
			c, err = countStates(ctx, db, r.id)
		}
		if err != nil {
			return nil, false, err
		}
		r.mu.Lock()
		out.Counts, r.counts = c, c
		r.mu.Unlock()
	}
	left := out.Counts.Pending + out.Counts.Deferred + out.Counts.Sending
	switch {
	case out.Status == StatusDone && left > 0:
		out.Status, out.Cause, out.Reason = StatusPaused, CauseStopped, "stopped early"
	case out.Status == StatusPaused && left == 0:
		// A pause (a Ctrl-C, a pause request) that came once every row
		// had its outcome stopped nothing: the delivery is done, not
		// paused with nothing to resume.
		out = &Outcome{ID: r.id, Status: StatusDone, Counts: out.Counts}
	}
	if ctl == "pause" && out.Status == StatusPaused && out.Cause != CauseByHand {
		// Asked by a person: it holds (the scheduler resumes a pause by
		// the daily limit, never one by hand).
		out.Cause, out.Reason, out.SignIn, out.ResumeAfter = CauseByHand, "paused by 'bluemoon deliveries pause'", false, time.Time{}
	}
	var resume int64
	if !out.ResumeAfter.IsZero() {
		resume = out.ResumeAfter.UnixMilli()
	}
	finished := int64(0)
	if out.Status != StatusPaused {
		finished = now
	}
	stamp, err := finalStamp(out.Counts)
	if err != nil {
		return nil, false, err
	}
	res, err := db.ExecContext(ctx, `UPDATE deliveries SET status = ?, cause = ?, reason = ?, resume_after = ?, control = '', finished_at = ?, progress = ? WHERE id = ? AND control = ?`,
		out.Status, out.Cause, out.Reason, resume, finished, stamp, r.id, ctl)
	if err != nil {
		return nil, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, err
	}
	return out, n == 1, nil
}

// finalStamp is what a run stamps on its delivery as it ends, and a
// cancel as it cancels the rows: their counts, exact (the ledger kept
// them through every change, or they were counted), so that listing the
// delivery does not count every row again, nor does its next run. Rows
// change after that only through ReopenFailed and Recover, which clear
// the stamp with them, or a new run, which clears it as it starts.
func finalStamp(c Counts) (string, error) {
	b, err := json.Marshal(stampedProgress{Counts: c, Final: true})
	return string(b), err
}

func (r *run) progress() Progress {
	r.mu.Lock()
	c := r.counts
	r.mu.Unlock()
	p := Progress{Counts: c, Elapsed: time.Since(r.started)}
	p.Total = c.Pending + c.Sending + c.Sent + c.Failed + c.Deferred + c.Unknown + c.Cancelled
	if s := p.Elapsed.Seconds(); s > 0 {
		p.Rate = float64(r.sentThisRun.Load()) / s
	}
	if p.Rate > 0 {
		left := c.Pending + c.Deferred + c.Sending
		p.ETA = time.Duration(float64(left) / p.Rate * float64(time.Second))
	}
	return p
}
