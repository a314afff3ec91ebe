package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/fileerr"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// DefaultDailyWait is how long a delivery that reaches the account's daily
// limit waits, by default, for the window to reopen before it pauses.
const DefaultDailyWait = 15 * time.Minute

// ListInput says which recipient list to read and how.
type ListInput struct {
	Path        string // CSV, TSV or Excel .xlsx with a header row
	Delimiter   string // comma, tab or semicolon ("" detects)
	Encoding    string // auto (""), utf-8 or shift_jis
	EmailColumn string // the address column (default email)
	Sheet       string // the sheet of an .xlsx workbook (default: the first)
}

// MessageInput is the message template. Bodies come as text (Text, HTML)
// or from files (TextFile, HTMLFile); both are Go templates with merge
// fields such as {{.name}}.
type MessageInput struct {
	Subject            string
	Text, HTML         string
	TextFile, HTMLFile string
	Attach             []string // files every recipient gets
	AttachColumn       string   // a column naming a file for that recipient, inside AttachDir
	// AttachDir is the folder AttachColumn's files must be in (default:
	// the list's folder); nothing outside it is ever attached.
	AttachDir string
	Charset   string // utf-8 (default) or iso-2022-jp
	// Signature appends the account's signature (its 署名 setting) to
	// each body.
	Signature bool
}

// SendInput is everything a delivery is made from (the flags of `send`).
type SendInput struct {
	Account string
	Name    string // default: the list's file name and the time
	List    ListInput
	Message MessageInput
	// DryRun checks everything (list, template, sign-in, SMTP login) and
	// stores and sends nothing.
	DryRun bool
	// SkipInvalid leaves rows with problems out (listed in the report as
	// skipped) instead of refusing the whole delivery.
	SkipInvalid bool
	// NoChunking never uses BDAT, only DATA (for a server that mishandles
	// CHUNKING); it is kept with the delivery, so a resume follows it.
	NoChunking bool
	// DailyWait is how long to wait for the daily window to reopen before
	// pausing (0 pauses at once; the CLI's default is DefaultDailyWait).
	DailyWait time.Duration

	scheduled bool // the scheduler's job: its stopping pauses the delivery for the next scheduler (delivery.Options.Scheduled)
}

// ResumeInput is how to go on with a delivery.
type ResumeInput struct {
	// ResendUnknown sends again to the recipients whose message was with
	// the server when a run stopped (they may or may not have it).
	ResendUnknown bool
	// ResendFailed sends again to the recipients the server refused
	// (failed), once the cause is fixed.
	ResendFailed bool
	NoChunking   bool // for this run (a delivery made with NoChunking keeps it anyway)
	DailyWait    time.Duration

	onlyCause string // the scheduler's: run it only if still paused for this cause
	scheduled bool   // the scheduler's job: its stopping pauses the delivery for the next scheduler
}

// SendEvents are how a delivery reports as it goes; any may be nil. They
// are called from the goroutine of the call (Progress: the engine's).
type SendEvents struct {
	// Preflight: the list was read and checked (every row, address and
	// message, attachments and sizes) — also when it has problems, before
	// the error comes back.
	Preflight func(*delivery.Preflight)
	// SignedIn: the account signed in to its server (the preflight's
	// last check); server is its SMTP host:port or the API it sends
	// through ("Microsoft Graph").
	SignedIn func(account, server string)
	// Started: the delivery is stored and about to send.
	Started func(id int64, ready int)
	// Recovered (resume): what recovery found; Unknown lists the
	// recipients whose message was with the server when the last run
	// stopped. Called once, under the delivery's lock.
	Recovered func(*delivery.Recovery)
	// Progress: counts, rate and ETA, at most twice a second.
	Progress func(delivery.Progress)
	// Done: a dry run finished checking, or a run ended with an outcome
	// (also one short of every recipient, before its *OutcomeError).
	Done func(*SendResult)
	// SignIn is asked when the account needs a new sign-in.
	SignIn SignInHandler
}

// SendResult is what Send, Resume, StartDelivery and StartResume did.
type SendResult struct {
	DeliveryID int64               // 0 for a dry run
	Preflight  *delivery.Preflight // Send, StartDelivery
	Recovery   *delivery.Recovery  // Resume, StartResume
	// ResentFailed is how many failed recipients ResendFailed put back.
	ResentFailed int
	DryRun       bool
	// Outcome is how the run ended (Send and Resume, when it ran). An
	// outcome short of every recipient sent also comes back as an
	// *OutcomeError carrying its exit code.
	Outcome *delivery.Outcome
	// SchedulerResume: the run was the scheduler's own job (serve's, the
	// console's scheduler) and left the delivery paused for the scheduler
	// to go on with by itself — the daily limit, the scheduler's stop, a
	// resume failing for a while — so nobody need resume it; nil when a
	// person must, or the run was not the scheduler's (whether one runs
	// is not known then).
	SchedulerResume *SchedulerResume
}

// prepared is a delivery checked and stored (unless a dry run), with the
// dialer its run uses.
type prepared struct {
	acct *account.Account
	pf   *delivery.Preflight
	dial delivery.Dialer
}

// prepare does a delivery's preflight in the order a person wants the
// answers: local problems (list, template, attachments, encoding, account
// settings) first, all at once; only then the network: the token, and a
// sign-in to the SMTP server. A delivery refused at the sign-in is not
// kept.
func (s *Service) prepare(ctx context.Context, in SendInput, ev SendEvents) (*prepared, error) {
	lp, err := s.prepareLocal(ctx, in, ev)
	if err != nil {
		return nil, err
	}
	acct, pf := lp.acct, lp.pf
	cfg, err := s.signInCheck(ctx, acct, lp.cfg, lp.src, ev.SignIn)
	if err != nil {
		if !in.DryRun {
			if derr := delivery.Discard(context.WithoutCancel(ctx), s.db.DB, pf.DeliveryID); derr != nil {
				s.log.Warn("a delivery refused at its sign-in check was kept", "delivery", pf.DeliveryID, "err", derr)
			}
		}
		return nil, &SignInCheckError{Account: acct.Name, Server: acct.SendsTo(), Err: err}
	}
	if ev.SignedIn != nil {
		ev.SignedIn(acct.Name, acct.SendsTo())
	}
	return &prepared{acct: acct, pf: pf, dial: delivery.TransportDialer(cfg)}, nil
}

// localPrepared is a delivery checked on this computer (list, template,
// attachments, account settings), before any network check.
type localPrepared struct {
	acct *account.Account
	pf   *delivery.Preflight
	cfg  transport.Config
	src  *oauth.Source
}

// prepareLocal is the part of prepare that needs no network.
func (s *Service) prepareLocal(ctx context.Context, in SendInput, ev SendEvents) (*localPrepared, error) {
	if err := checkDailyWait(in.DailyWait); err != nil {
		return nil, err
	}
	lo, err := in.List.options()
	if err != nil {
		return nil, err
	}
	if in.Account == "" {
		return nil, fieldErr("account", CodeRequired, "--account NAME is required (see 'bluemoon account list')")
	}
	acct, err := s.account(ctx, in.Account)
	if err != nil {
		return nil, err
	}
	spec, atts, err := in.Message.load(acct)
	if err != nil {
		return nil, err
	}
	limits := delivery.LimitsOf(acct)
	cfg, src, err := s.localTransportConfig(ctx, acct)
	if err != nil {
		return nil, err
	}
	cfg.NoChunking = in.NoChunking
	plan := delivery.Plan{Name: in.Name, Account: acct.Name, MaxBytes: limits.MaxMessageBytes, Spec: spec, Attachments: atts,
		List: in.List.Path, ListOptions: lo, SkipInvalid: in.SkipInvalid, DryRun: in.DryRun, NoChunking: in.NoChunking}
	pf, err := delivery.Prepare(ctx, s.db.DB, plan)
	if pf != nil && ev.Preflight != nil {
		ev.Preflight(pf)
	}
	var empty *delivery.EmptyListError
	if errors.As(err, &empty) {
		return nil, &FieldError{Field: "recipients", Code: CodeNoRecipients, Message: err.Error(), Err: err}
	}
	if err != nil {
		return nil, err
	}
	if !in.DryRun {
		// Removed after it was read above, before Prepare stored the
		// delivery (RemoveAccount, which refuses while one is being
		// prepared, did not see it yet): it would send through an account
		// that no longer exists. Once stored, a removal sees it.
		if _, err := s.account(ctx, acct.Name); err != nil {
			if derr := delivery.Discard(context.WithoutCancel(ctx), s.db.DB, pf.DeliveryID); derr != nil {
				s.log.Warn("a delivery whose account was removed as it was prepared was kept", "delivery", pf.DeliveryID, "err", derr)
			}
			return nil, err
		}
	}
	return &localPrepared{acct: acct, pf: pf, cfg: cfg, src: src}, nil
}

// signInCheck gets a token (asking handler when a sign-in is needed) and
// signs in to the SMTP server once; a refused token is refreshed and tried
// again inside the dial.
func (s *Service) signInCheck(ctx context.Context, acct *account.Account, cfg transport.Config, src *oauth.Source, handler SignInHandler) (transport.Config, error) {
	if src != nil {
		if _, err := src.AccessToken(ctx); err != nil {
			if handler == nil || !needsSignIn(err) {
				return cfg, err
			}
			if herr := handler(ctx, acct, err); herr != nil {
				return cfg, herr
			}
			fresh, err := s.readySource(ctx, acct, nil)
			if err != nil {
				return cfg, err
			}
			cfg.Tokens = fresh
		}
	}
	m, err := delivery.TransportDialer(cfg)(ctx, false)
	if err != nil {
		return cfg, err
	}
	return cfg, m.Close()
}

// Send checks and sends a delivery, returning when it ends: every
// recipient has an outcome, or it paused (ctx cancelled — Ctrl-C —, the
// daily limit, a sign-in needed, `deliveries pause`) or was cancelled.
// List problems come back as *delivery.ProblemsError (nothing stored), a
// list without data rows as a *FieldError (recipients, CodeNoRecipients), a
// refused sign-in as *SignInCheckError, a busy account as *BusyError (the
// delivery is left ready to resume).
func (s *Service) Send(ctx context.Context, in SendInput, ev SendEvents) (*SendResult, error) {
	p, err := s.prepare(ctx, in, ev)
	if err != nil {
		return nil, err
	}
	res := &SendResult{DeliveryID: p.pf.DeliveryID, Preflight: p.pf, DryRun: in.DryRun}
	if in.DryRun {
		// What the run would refuse (Prepare does, storing nothing),
		// the dry run refuses too: a scheduled preflight is a dry run.
		// The console's check step reads the rows through CheckDelivery.
		if p.pf.NoneLeft() {
			return res, &delivery.ProblemsError{P: p.pf, NoneLeft: true}
		}
		ev.done(res)
		return res, nil
	}
	if ev.Started != nil {
		ev.Started(p.pf.DeliveryID, p.pf.Ready)
	}
	unlock, err := s.lockDelivery(res.DeliveryID)
	if err != nil {
		return res, err
	}
	defer unlock()
	res.Outcome, err = s.runEngine(ctx, p.acct, res.DeliveryID, p.dial, engineRun{dailyWait: in.DailyWait, scheduled: in.scheduled}, ev.Progress)
	s.leftForScheduler(ctx, res, in.scheduled)
	ev.done(res)
	return res, res.err(err)
}

// leftForScheduler sets res.SchedulerResume when the scheduler's job
// (scheduled) left its delivery paused for the scheduler to go on with.
// A failure to read it leaves it nil: the person is told to resume, which
// is never wrong, only needless.
func (s *Service) leftForScheduler(ctx context.Context, res *SendResult, scheduled bool) {
	res.SchedulerResume = nil
	if !scheduled || res.Outcome == nil || res.Outcome.Status != delivery.StatusPaused {
		return
	}
	r, err := s.SchedulerResumeOf(context.WithoutCancel(ctx), res.Outcome.ID)
	if err != nil {
		s.log.Warn("cannot read whether the scheduler resumes the delivery", "delivery", res.Outcome.ID, "err", err)
		return
	}
	res.SchedulerResume = r
}

func (ev SendEvents) done(res *SendResult) {
	if ev.Done != nil && (res.DryRun || res.Outcome != nil) {
		ev.Done(res)
	}
}

// Resume goes on with a delivery that was paused, stopped by Ctrl-C, the
// daily limit or a needed sign-in, or whose process died, and returns
// when the run ends. Recipients whose message was with the server when a
// process died become unknown (ev.Recovered lists them) and are sent again
// only with ResendUnknown. A delivery running in another process is a
// *BusyError.
func (s *Service) Resume(ctx context.Context, id int64, in ResumeInput, ev SendEvents) (*SendResult, error) {
	if err := checkDailyWait(in.DailyWait); err != nil {
		return nil, err
	}
	acct, d, err := s.deliveryAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockDelivery(id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.resumeLocked(ctx, acct, d, in, ev)
}

// resumeLocked is Resume of d through acct, once the caller holds d's
// delivery lock.
func (s *Service) resumeLocked(ctx context.Context, acct *account.Account, d *delivery.Summary, in ResumeInput, ev SendEvents) (*SendResult, error) {
	id := d.ID
	res, dial, err := s.recoverForRun(ctx, acct, d, in, ev)
	if err != nil {
		return res, err
	}
	res.Outcome, err = s.runEngine(ctx, acct, id, dial, engineRun{dailyWait: in.DailyWait, onlyCause: in.onlyCause, scheduled: in.scheduled}, ev.Progress)
	s.leftForScheduler(ctx, res, in.scheduled)
	ev.done(res)
	return res, res.err(err)
}

func (s *Service) deliveryAccount(ctx context.Context, id int64) (*account.Account, *delivery.Summary, error) {
	d, err := s.Delivery(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	acct, err := s.account(ctx, d.Account)
	if errors.Is(err, account.ErrNotFound) {
		// Removed after the delivery began: the rows not yet sent wait for
		// an account of that name again.
		return nil, nil, &NotFoundError{Kind: KindAccount, Name: d.Account, Err: fmt.Errorf(
			"delivery %d sends through account %q, which was removed (%w): to go on with it, add the account again under that name "+
				"('bluemoon account add %s …'); or end it with 'bluemoon deliveries cancel %d'", id, d.Account, account.ErrNotFound, d.Account, id)}
	}
	if err != nil {
		return nil, nil, err
	}
	return acct, d, nil
}

// recoverForRun turns the rows a dead run left 'sending' into 'unknown'
// (the caller holds the delivery's lock) and gets the account's
// credentials for the run.
func (s *Service) recoverForRun(ctx context.Context, acct *account.Account, d *delivery.Summary, in ResumeInput, ev SendEvents) (*SendResult, delivery.Dialer, error) {
	rec, err := delivery.Recover(ctx, s.db.DB, d.ID, in.ResendUnknown)
	if err != nil {
		return nil, nil, deliveryNotFound(d.ID, err)
	}
	res := &SendResult{DeliveryID: d.ID, Recovery: rec}
	if ev.Recovered != nil {
		ev.Recovered(rec)
	}
	if in.ResendFailed {
		if res.ResentFailed, err = delivery.ReopenFailed(ctx, s.db.DB, d.ID); err != nil {
			return res, nil, err
		}
	}
	cfg, err := s.transportConfig(ctx, acct, ev.SignIn)
	if err != nil {
		return res, nil, err
	}
	cfg.NoChunking = in.NoChunking || d.NoChunking
	return res, delivery.TransportDialer(cfg), nil
}

// runEngine runs delivery id through acct under the account's send lock
// (the provider's limits are per mailbox: one delivery at a time keeps
// the per-minute, daily and connection counts true across processes).
// The caller holds the delivery's lock.
func (s *Service) runEngine(ctx context.Context, acct *account.Account, id int64, dial delivery.Dialer, how engineRun, progress func(delivery.Progress)) (*delivery.Outcome, error) {
	unlock, err := s.lockAccount(acct.Name, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	e := s.engine(acct, dial, how.dailyWait, progress)
	e.Opts.OnlyCause, e.Opts.Scheduled = how.onlyCause, how.scheduled
	return e.Run(ctx, id)
}

// engineRun is how runEngine runs a delivery.
type engineRun struct {
	dailyWait time.Duration
	onlyCause string // only a delivery paused for it is started (delivery.Options.OnlyCause)
	scheduled bool   // delivery.Options.Scheduled
}

func (s *Service) engine(acct *account.Account, dial delivery.Dialer, dailyWait time.Duration, progress func(delivery.Progress)) *delivery.Engine {
	if dailyWait <= 0 {
		// Pause at once. The engine reads a zero wait as "use the default"
		// (15 minutes), so ask for the least wait there is.
		dailyWait = time.Nanosecond
	}
	return &delivery.Engine{DB: s.db.DB, Dial: dial, Opts: delivery.Options{Limits: delivery.LimitsOf(acct), Progress: progress, MaxDailyWait: dailyWait}}
}

// err is the error the run of res that ended with err stands for, with
// the scheduler's plan for its delivery: the job's log line and alert
// say it from there as the summary does.
func (res *SendResult) err(err error) error {
	err = outcomeErr(res.Outcome, err)
	var oe *OutcomeError
	if errors.As(err, &oe) {
		oe.Scheduler = res.SchedulerResume
	}
	return err
}

// outcomeErr is the error a finished run stands for.
func outcomeErr(out *delivery.Outcome, err error) error {
	if err != nil {
		return err
	}
	if out != nil && out.ExitCode() != 0 {
		return &OutcomeError{Outcome: out}
	}
	return nil
}

// options checks how to read the list.
func (l ListInput) options() (recipients.Options, error) {
	o := recipients.Options{Encoding: l.Encoding, EmailColumn: l.EmailColumn, Sheet: l.Sheet}
	switch l.Delimiter {
	case "":
	case ",", "comma":
		o.Delimiter = ','
	case "\t", "\\t", "tab":
		o.Delimiter = '\t'
	case ";", "semicolon":
		o.Delimiter = ';'
	default:
		return o, fieldErr("delimiter", CodeInvalid, "--delimiter %q: use comma, tab or semicolon", l.Delimiter)
	}
	if l.Path == "" {
		return o, fieldErr("recipients", CodeRequired, "--recipients FILE is required")
	}
	if l.Sheet != "" && !recipients.IsXLSX(l.Path) {
		// Else ignored: the rows of a CSV would go while the person
		// believed a sheet of theirs was chosen.
		return o, fieldErr("sheet", CodeInvalid, "--sheet %q applies to Excel .xlsx lists only, and %s is not one: leave --sheet out", l.Sheet, l.Path)
	}
	return o, nil
}

// load reads the bodies and attachments into the merge spec of a message
// sent from acct.
func (m MessageInput) load(acct *account.Account) (merge.Spec, []merge.Attachment, error) {
	s := merge.Spec{Subject: m.Subject, Charset: m.Charset, AttachColumn: m.AttachColumn, AttachDir: m.AttachDir, From: acct.From, FromName: acct.FromName, Text: m.Text, HTML: m.HTML}
	if m.Subject == "" {
		return s, nil, fieldErr("subject", CodeRequired, "--subject is required")
	}
	if m.Text == "" && m.HTML == "" && m.TextFile == "" && m.HTMLFile == "" {
		return s, nil, fieldErr("text", CodeRequired, "give a body: --text FILE and/or --html FILE")
	}
	for _, f := range []struct {
		path  string
		dst   *string
		field string
	}{{m.TextFile, &s.Text, "text"}, {m.HTMLFile, &s.HTML, "html"}} {
		if f.path == "" {
			continue
		}
		b, err := merge.ReadTemplate(f.path)
		if err != nil {
			return s, nil, fieldErr(f.field, "unreadable", "--%s: %w", f.field, fileerr.Explain(err))
		}
		*f.dst = b
	}
	if m.Signature {
		s.Text, s.HTML = withSignature(s.Text, s.HTML, acct.Signature)
	}
	var atts []merge.Attachment
	for _, p := range m.Attach {
		a, err := merge.LoadAttachment(p)
		if err != nil {
			return s, nil, fieldErr("attach", "unreadable", "%w", err)
		}
		atts = append(atts, a)
	}
	return s, atts, nil
}
