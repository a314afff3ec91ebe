package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
	"github.com/bluemoon-mail/bluemoon/internal/logfile"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/testsend"
)

// Job is one piece of work nobody watches: a saved delivery (or its
// preflight), a keep-alive, or the resume of a delivery paused by a daily
// limit, started by `bluemoon run`, `bluemoon keepalive`, `bluemoon
// schedule run` or the scheduler.
type Job struct {
	Schedule  string        // the schedule it runs for ("" by hand)
	Kind      schedule.Kind // schedule.KindDelivery, KindKeepAlive or KindResume
	Target    string        // saved delivery name, account of a keep-alive, or ID of a delivery to resume
	SendTest  bool          // keep-alive: also send a test message to the account itself
	Preflight bool          // delivery: only check it would work (a dry run after a forced token refresh)
	Alert     alert.Config  // where alerts go (zero: the saved delivery's own)
	// ErrorShown: the caller shows the person the error RunJob returns
	// (the CLI's run, schedule run and keepalive print it): the lines
	// that say it again, the job's end and its alert, are marked
	// logfile.FileOnly, for the log file alone, so stderr says it once.
	ErrorShown bool
	// Scheduled: the scheduler runs it (serve's child, or the console's
	// scheduler in its process), and ctx ends when the scheduler stops.
	// A delivery it sends then pauses for the next scheduler to resume
	// (delivery.CauseSchedulerStopped), quietly; a job a person started
	// (`run`, `schedule run NAME` typed in) stopped so waits for them.
	Scheduled bool
	// Due is the occurrence a scheduled delivery's run is for (serve's
	// child gets it with --due): stopped with the scheduler before its
	// delivery was stored, the run records it on the schedule for the
	// next scheduler to run (an *InterruptedRunError).
	Due time.Time
}

// InterruptedRunError is a scheduled delivery's run that stopped with the
// scheduler before its delivery was stored: it sent nothing, no resume
// will go on with it, and the schedule keeps its occurrence for the next
// scheduler to run (schedule.Store.MarkInterrupted). Quiet, as a delivery
// paused by the scheduler's stop is.
type InterruptedRunError struct {
	Schedule string
	Due      time.Time
	Err      error // what the stop made of the step it came in
}

func (e *InterruptedRunError) Error() string {
	return fmt.Sprintf("schedule %s: %s", e.Schedule, schedule.InterruptedMessage)
}
func (e *InterruptedRunError) Unwrap() error { return e.Err }
func (e *InterruptedRunError) ExitCode() int { return exitcode.Paused }

// CheckStoppedError is a scheduled preflight or keep-alive that the
// scheduler's stop cut short: it says nothing about the account or the
// delivery, so nobody is alerted (QuietEnd).
type CheckStoppedError struct {
	What string // "preflight", "keep-alive"
	Err  error
}

func (e *CheckStoppedError) Error() string {
	return e.What + " stopped with the scheduler before it ended; it runs again at its next time"
}
func (e *CheckStoppedError) Unwrap() error { return e.Err }
func (e *CheckStoppedError) ExitCode() int { return exitcode.Paused }

// RunJob does j exactly as the command typed by hand would (a saved
// delivery is `send` with its saved options: same checks, same exit
// codes), logs it, and raises an alert when it did not succeed: sign-in
// needed, preflight failed, delivery paused or failed, keep-alive failed,
// token expiring. The error carries the exit code (nil when all went
// well). ev reports the delivery's steps, as Send's do; ev.SignIn nil
// (unattended) never waits for a person.
func (s *Service) RunJob(ctx context.Context, j Job, ev SendEvents) error {
	log := s.log
	var (
		err      error
		acctName string
		// the saved delivery run, or the ID of the delivery resumed
		deliveryRef string
		warnings    []keepalive.Warning
	)
	what := "delivery"
	switch j.Kind {
	case schedule.KindDelivery:
		deliveryRef = j.Target
		if j.Preflight {
			what = "preflight"
		}
		acctName, err = s.runSaved(ctx, &j, ev)
	case schedule.KindResume:
		what, deliveryRef = "resume of delivery", j.Target
		acctName, err = s.runResume(ctx, j.Target, j.Scheduled, ev)
	case schedule.KindKeepAlive:
		what, acctName = "keep-alive", j.Target
		var rep keepalive.Report
		rep, err = s.KeepAlive(ctx, j.Target, j.SendTest, ev.SignIn)
		warnings = rep.Warnings
	default:
		err = fmt.Errorf("unknown job kind %q", j.Kind)
	}
	if err != nil && j.Scheduled && ctx.Err() != nil && (j.Preflight || j.Kind == schedule.KindKeepAlive) {
		// A check the scheduler's stop cut short found nothing wrong:
		// the delivery is checked again as it runs, the keep-alive runs
		// again at its next time.
		err = &CheckStoppedError{What: what, Err: err}
	}
	code := exitcode.For(err)
	for _, kv := range [][2]string{{"schedule", j.Schedule}, {"account", acctName}, {"delivery", deliveryRef}} {
		if kv[1] != "" {
			log = log.With(kv[0], kv[1])
		}
	}
	quiet := QuietEnd(j.Kind, err)
	// failedLog and failed say the error again: for the file alone when
	// the caller shows it.
	n, failed, failedLog := s.notifier(), s.notifier(), log
	if j.ErrorShown {
		failedLog, failed.Log = log.With(logfile.FileOnly()), failed.Log.With(logfile.FileOnly())
	}
	left := LeftForScheduler(err)
	switch {
	case code == exitcode.OK:
		log.Info(what+" done", "target", j.Target)
	case quiet != "":
		log.Info(what+": "+quiet, "target", j.Target)
	case left != nil:
		// Not a failure: the scheduler goes on with it. Said on every
		// output, as a quiet end is; the alert below still tells of
		// the pause, as the docs promise for a delivery's first one.
		log.Info(what+": "+left.Sentence(), "target", j.Target, "id", outcomeID(err))
	default:
		failedLog.Error(what+" did not succeed", "target", j.Target, "exit", code, "err", errText(err, what, j.Target))
	}
	for _, w := range warnings {
		n.Notify(ctx, j.Alert, alert.Event{Kind: alert.TokenExpiring, Account: acctName, Schedule: j.Schedule, Message: w.Message})
	}
	if code != exitcode.OK && quiet == "" {
		failed.Notify(context.WithoutCancel(ctx), j.Alert, alert.Event{
			Kind: alertKind(j, code, err), Account: acctName, Delivery: deliveryRef, Schedule: j.Schedule,
			Message: errText(err, what, j.Target), ExitCode: code,
		})
	}
	return err
}

// QuietEnd says why a job of kind that ended with err needs nobody told
// ("" when it does, or err is nil): a resume paused again by the daily
// limit, or to be tried again later; a delivery stopped with the
// scheduler, which the next one resumes. RunJob logs it at Info and
// raises no alert.
func QuietEnd(kind schedule.Kind, err error) string {
	if stoppedWithTheScheduler(err) {
		return stoppedWithTheSchedulerSentence
	}
	var ir *InterruptedRunError
	if errors.As(err, &ir) {
		return schedule.InterruptedMessage
	}
	var cs *CheckStoppedError
	if errors.As(err, &cs) {
		return cs.Error()
	}
	if kind == schedule.KindResume {
		return resumeNotDone(err)
	}
	return ""
}

// LeftForScheduler says how the scheduler goes on by itself with the
// delivery that err, the end of the scheduler's own job (Job.Scheduled),
// left paused: its daily limit's window, its stop, or its failing resume's
// next try (SendResult.SchedulerResume, from the scheduler's due test).
// nil when a person must go on with it, or err is no such end. RunJob
// then logs no failure and its alert says so; serve's line says so.
func LeftForScheduler(err error) *SchedulerResume {
	if oe := outcomeError(err); oe != nil {
		return oe.Scheduler
	}
	return nil
}

// outcomeError is err's *OutcomeError, nil when it has none.
func outcomeError(err error) *OutcomeError {
	var oe *OutcomeError
	if errors.As(err, &oe) {
		return oe
	}
	return nil
}

// outcomeID is the delivery an *OutcomeError err ended, 0 for another err.
func outcomeID(err error) int64 {
	if oe := outcomeError(err); oe != nil {
		return oe.Outcome.ID
	}
	return 0
}

// Sentence says in English, for a log line, an alert and a schedule's
// last message, what the scheduler does next with the delivery: "paused
// by the daily limit; the scheduler resumes it after …".
func (r *SchedulerResume) Sentence() string {
	switch {
	case r.Retrying:
		return fmt.Sprintf("paused; the scheduler's resume of it failed, it tries again at %s, and stops trying and alerts if it still fails at %s",
			r.At.Local().Format(sentenceTime), r.GiveUpAt.Local().Format(sentenceTime))
	case r.Cause == delivery.CauseSchedulerStopped:
		return stoppedWithTheSchedulerSentence
	}
	return "paused by the daily limit; the scheduler resumes it after " + r.At.Local().Format(sentenceTime)
}

// stoppedWithTheSchedulerSentence is what happens to a delivery stopped
// with the scheduler that ran it, as QuietEnd and Sentence say it.
const stoppedWithTheSchedulerSentence = "stopped with the scheduler; the scheduler resumes it when it runs next"

// sentenceTime is how Sentence gives a time: as the daily limit's reason
// does ("it can go on after 2026-12-04 09:12 JST").
const sentenceTime = "2006-01-02 15:04 MST"

// ResumedCause says, of err ending a job, whether its delivery paused for
// a cause the scheduler resumes by itself: stopped with the scheduler, or
// paused by the daily limit until a known time. It returns that cause
// (delivery.CauseSchedulerStopped, CauseDailyLimit), "" otherwise: what
// the schedule records of its last run (schedule.Result.Cause), for its
// faces to say the scheduler goes on with it, not that a person must.
func ResumedCause(err error) string {
	oe := outcomeError(err)
	if oe == nil || oe.Outcome.Status != delivery.StatusPaused {
		return ""
	}
	switch c := oe.Outcome.Cause; {
	case c == delivery.CauseSchedulerStopped, c == delivery.CauseDailyLimit && !oe.Outcome.ResumeAfter.IsZero():
		return c
	}
	return ""
}

// ResumedDelivery is the ID of the delivery err says paused for a cause
// the scheduler resumes by itself (ResumedCause), 0 otherwise: kept on the
// schedule (schedule.Result.Delivery) so that its faces can say what
// became of it since.
func ResumedDelivery(err error) int64 {
	if ResumedCause(err) == "" {
		return 0
	}
	return outcomeID(err)
}

// runSaved runs (or preflights) a saved delivery. A run waits for any
// other unattended delivery through the account, so one per account runs
// at a time.
func (s *Service) runSaved(ctx context.Context, j *Job, ev SendEvents) (acct string, err error) {
	d, err := s.SavedDelivery(ctx, j.Target)
	if err != nil {
		return "", err
	}
	if j.Alert.IsZero() {
		j.Alert = d.Alert
	}
	in, err := savedSend(d)
	if err != nil {
		return d.Account, err
	}
	in.scheduled = j.Scheduled
	if j.Preflight {
		// The refresh token is what dies between now and the delivery: an
		// access token still valid for an hour proves nothing about it, so
		// the preflight forces a refresh (saving a rotated token as usual).
		acct, err := s.account(ctx, d.Account)
		if err != nil {
			return d.Account, err
		}
		if acct.Auth == account.AuthXOAuth2 {
			if err := s.refresh(ctx, acct, ev.SignIn); err != nil {
				return d.Account, err
			}
		}
		// The dry run is the preflight: every row parsed, every message
		// rendered, the SMTP login tried.
		in.DryRun = true
	} else {
		unlock, qerr := s.queueOnAccount(ctx, d.Account, func() {
			s.log.Info("waiting: another delivery through this account is running", "account", d.Account, "delivery", d.Name)
		})
		if qerr != nil {
			return d.Account, s.interruptedRun(ctx, j, qerr)
		}
		defer unlock()
		// Once stored and started, a stop pauses the delivery for the
		// next scheduler's resume; before, nothing would go on with it.
		started, inner := false, ev.Started
		ev.Started = func(id int64, ready int) {
			started = true
			if inner != nil {
				inner(id, ready)
			}
		}
		defer func() {
			if !started {
				err = s.interruptedRun(ctx, j, err)
			}
		}()
	}
	s.log.Info("starting", "delivery", d.Name, "account", d.Account, "preflight", j.Preflight)
	_, err = s.Send(ctx, in, ev)
	return d.Account, err
}

// interruptedRun is err, the end of j's run before its delivery was
// started, as an *InterruptedRunError (recorded on the schedule) when the
// scheduler's stop is what ended it.
func (s *Service) interruptedRun(ctx context.Context, j *Job, err error) error {
	if err == nil || ctx.Err() == nil || !j.Scheduled || j.Preflight || j.Schedule == "" || j.Due.IsZero() {
		return err
	}
	if merr := s.schedules().MarkInterrupted(context.WithoutCancel(ctx), j.Schedule, j.Due, s.now()); merr != nil {
		s.log.Error("record the interrupted run on its schedule", "schedule", j.Schedule, "err", merr)
		return err
	}
	return &InterruptedRunError{Schedule: j.Schedule, Due: j.Due, Err: err}
}

// alertKind chooses what to call a failure: a sign-in is the most useful
// thing to say, whatever the job was.
func alertKind(j Job, code int, err error) alert.Kind {
	switch {
	case code == exitcode.SignIn || needsSignIn(err):
		return alert.SignInNeeded
	case j.Preflight:
		return alert.PreflightFailed
	case j.Kind == schedule.KindKeepAlive:
		return alert.KeepAliveFailed
	case code == exitcode.Paused:
		return alert.DeliveryPaused
	default:
		return alert.DeliveryFailed
	}
}

// errText is the sentence for an alert. A delivery that ran and stopped
// short gets a sentence from its exit code.
func errText(err error, what, target string) string {
	if err == nil {
		return ""
	}
	var gave *ResumeGaveUpError
	var oe *OutcomeError
	if errors.As(err, &gave) || !errors.As(err, &oe) {
		return err.Error()
	}
	if left := oe.Scheduler; left != nil {
		return fmt.Sprintf("%s %s (delivery %d) %s; 'bluemoon deliveries pause %d' keeps it waiting for you instead",
			what, target, oe.Outcome.ID, left.Sentence(), oe.Outcome.ID)
	}
	switch code := oe.ExitCode(); code {
	case exitcode.Failures:
		return fmt.Sprintf("%s %s finished, but some recipients failed (exit 3)", what, target)
	case exitcode.Paused:
		return fmt.Sprintf("%s %s paused (exit 5)", what, target)
	case exitcode.SignIn:
		return fmt.Sprintf("%s %s stopped: a sign-in is needed (exit 4)", what, target)
	default:
		return fmt.Sprintf("%s %s ended with exit code %d", what, target, code)
	}
}

// CheckAlert checks alert destinations, and that the account meant to
// send alert e-mails exists: a misspelt one would only show when an alert
// is needed, and then it would be lost.
func (s *Service) CheckAlert(ctx context.Context, c alert.Config) error {
	if err := c.Validate(); err != nil {
		return &FieldError{Field: "notify_email", Code: CodeInvalid, Message: err.Error(), Err: err}
	}
	if c.EmailAccount == "" {
		return nil
	}
	return s.requireAccount(ctx, "notify_account", "--notify-account", c.EmailAccount)
}

func (s *Service) notifier() *alert.Notifier {
	return &alert.Notifier{Log: s.log, Mailer: accountMailer{s}, Now: s.opts.Clock}
}

// accountMailer sends an alert as a plain-text message through a bluemoon
// account, never waiting for a person (an alert is sent by a job nobody
// watches).
type accountMailer struct{ s *Service }

func (m accountMailer) SendAlert(ctx context.Context, name, to, subject, body string) error {
	acct, err := m.s.accounts().Get(ctx, name)
	if err != nil {
		if errors.Is(err, account.ErrNotFound) {
			return &exitcode.UsageError{Err: fmt.Errorf("--notify-account: %w", err)}
		}
		return err
	}
	_, err = m.s.sendTest(ctx, acct, testsend.Request{Account: acct, To: to, Subject: subject, Text: body}, nil)
	return err
}
