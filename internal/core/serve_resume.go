package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// A delivery larger than a day's sending (Gmail: 2,000 messages a day)
// pauses when the limit is reached, with the time its window reopens.
// The scheduler resumes it then, as a job like any other (in a child
// process, queued behind the account's other deliveries), so that a list
// of several days' sending goes out without a person resuming it each
// morning.
//
// A delivery the scheduler's job was sending when the scheduler itself
// stopped (serve's SIGTERM, a shutdown, the console quitting with its
// scheduler) paused cleanly for that (CauseSchedulerStopped), due at
// once: the next scheduler — serve started again, or the next serve
// --once — resumes it the same way, rather than leave a multi-day
// delivery waiting for a person who may not know it stopped. One whose
// process died instead (left interrupted, what was with the server
// unknown) is not resumed: a person decides (diedMidRun).

// resumeRetry is how long the scheduler leaves a due delivery whose resume
// did not get going (its account busy with a delivery started by hand, a
// crash, the network down) before it tries again.
var resumeRetry = 5 * time.Minute

// resumeGiveUp is how long the scheduler's resumes of a delivery may fail
// for a reason that may pass by itself (the network, the server down or
// busy) before it stops trying and alerts: long enough for a router's
// restart or a provider's brief outage, short enough that a person hears
// of a real one the same morning.
var resumeGiveUp = time.Hour

// resumer runs the resumes of deliveries whose daily limit has reset, one
// job per delivery at a time.
type resumer struct {
	s      *Service
	runner schedule.Runner
	alert  alert.Config // where an alert the job could not raise goes ("" : the home's settings)

	mu       sync.Mutex
	inFlight map[int64]bool
	retryAt  map[int64]time.Time
	wg       sync.WaitGroup
}

func newResumer(s *Service, runner schedule.Runner, notify alert.Config) *resumer {
	return &resumer{s: s, runner: runner, alert: notify, inFlight: map[int64]bool{}, retryAt: map[int64]time.Time{}}
}

// pass starts a resume for each delivery due now that is not being
// resumed already.
func (r *resumer) pass(ctx context.Context) {
	now := r.s.now()
	ids, err := delivery.DueForResume(ctx, r.s.db.DB, now)
	if err != nil {
		if ctx.Err() == nil {
			r.s.log.Error("cannot look for deliveries to resume", "err", err)
		}
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if r.inFlight[id] || now.Before(r.retryAt[id]) {
			continue
		}
		r.inFlight[id] = true
		r.s.log.Info("resuming: it paused on a daily limit that has reset, or stopped with the scheduler", "delivery", id)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			res := r.runner.Run(ctx, schedule.Job{Due: now,
				Schedule: &schedule.Schedule{Kind: schedule.KindResume, Target: strconv.FormatInt(id, 10)}})
			switch {
			case res.NotStarted:
				r.notStarted(ctx, id, res)
			case res.ExitCode != exitcode.OK:
				r.s.log.Info("resume of delivery ended", "delivery", id, "exit", res.ExitCode, "message", res.Message)
				r.diedMidRun(ctx, id, res)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			delete(r.inFlight, id)
			// Paused again by the limit, it is due again only at its new
			// time; anything else that left it due (its account busy, or
			// its lock held by another process, which ends the job with
			// success) waits a while, rather than a job every poll.
			r.retryAt[id] = r.s.now().Add(resumeRetry)
		}()
	}
}

// diedMidRun alerts when the resume's process died while it sent (a
// crash, killed): the job raised no alert, and the delivery, left
// running, is not due any more (nor would resuming it by itself be right:
// what was with the server is unknown). A person resumes it.
func (r *resumer) diedMidRun(ctx context.Context, id int64, res schedule.Result) {
	if _, here := r.runner.(JobRunner); here {
		return // in this process: the job itself said how it ended
	}
	d, err := delivery.Get(context.WithoutCancel(ctx), r.s.db.DB, id)
	if err != nil || d.Status != delivery.StatusRunning && d.Status != delivery.StatusInterrupted || r.s.runnerAlive(id) {
		return
	}
	msg := fmt.Sprintf("resume of delivery %d stopped: the process sending it ended as it sent (%s); "+
		"run 'bluemoon deliveries resume %d' to go on (what was with the server then is unknown)", id, res.Message, id)
	r.s.log.Error(msg, "delivery", id)
	r.s.notifier().Notify(context.WithoutCancel(ctx), r.s.alertOr(ctx, r.alert), alert.Event{
		Kind: alert.DeliveryFailed, Account: d.Account, Delivery: strconv.FormatInt(id, 10), Message: msg, ExitCode: res.ExitCode})
}

// notStarted alerts, once, that the scheduler could not start the job
// resuming delivery id (the bluemoon program missing or not runnable):
// the delivery, untouched, would be due at every look. It waits for a
// person instead, paused for that reason, as after a resume that failed
// for good.
func (r *resumer) notStarted(ctx context.Context, id int64, res schedule.Result) {
	bg := context.WithoutCancel(ctx)
	msg := fmt.Sprintf("the scheduler could not start the job resuming delivery %d: %s; it does not try again by itself: "+
		"check that the bluemoon program it runs is installed and runs (reinstall it, then restart 'bluemoon serve'), "+
		"then run 'bluemoon deliveries resume %d'", id, res.Message, id)
	changed, err := delivery.StopResuming(bg, r.s.db.DB, id, delivery.CauseOther, "not resumed by the scheduler: "+msg)
	if err != nil {
		r.s.log.Error("cannot record why the delivery was not resumed", "delivery", id, "err", err)
	}
	if !changed {
		return // paused by hand, cancelled or resumed meanwhile (or not recorded: said above)
	}
	// The alert is logged too, once.
	acct := ""
	if d, err := delivery.Get(bg, r.s.db.DB, id); err == nil {
		acct = d.Account
	}
	r.s.notifier().Notify(bg, r.s.alertOr(ctx, r.alert), alert.Event{
		Kind: alert.DeliveryFailed, Account: acct, Delivery: strconv.FormatInt(id, 10), Message: msg, ExitCode: res.ExitCode})
}

// watch makes a pass now and every poll until ctx ends, then waits for the
// resumes under way (which ctx's end pauses, as Ctrl-C would).
func (r *resumer) watch(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = schedule.DefaultPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		r.pass(ctx)
		select {
		case <-ctx.Done():
			r.wg.Wait()
			return
		case <-t.C:
		}
	}
}

// runResume resumes delivery target (its ID) as the scheduler's job: after
// the account's other unattended deliveries, as a scheduled one would go.
//
// It takes the delivery's lock before it queues, so that a second resume
// of it (a `serve --once` a minute later, while this one still waits for
// the account) is turned away at once instead of queueing behind it; and
// it looks at the delivery again once it holds both locks: paused by hand,
// cancelled, or resumed by someone else while it waited, it is left alone.
// A resume that fails before it runs for good (the account removed, a
// sign-in needed) leaves the delivery paused for that cause, no longer
// due: the alert says it once, not at every look. One that fails for a
// reason that may pass (passingFailure) leaves it due again resumeRetry
// later, unsaid, until its resumes have failed for resumeGiveUp.
func (s *Service) runResume(ctx context.Context, target string, scheduled bool, ev SendEvents) (string, error) {
	id, err := strconv.ParseInt(target, 10, 64)
	if err != nil {
		return "", &exitcode.UsageError{Err: fmt.Errorf("delivery ID %q: %w", target, err)}
	}
	// Read even if the scheduler is stopping as the job starts: the wait
	// for the account below then leaves the delivery due, quietly.
	d, err := s.Delivery(context.WithoutCancel(ctx), id)
	if err != nil {
		return "", err
	}
	unlock, err := s.lockDelivery(id)
	var busy *BusyError
	if errors.As(err, &busy) {
		s.log.Info("not resumed: another process is running or resuming it", "delivery", id)
		return d.Account, nil
	}
	if err != nil {
		return d.Account, err
	}
	defer unlock()
	unqueue, err := s.queueOnAccount(ctx, d.Account, func() {
		s.log.Info("waiting: another delivery through this account is running", "account", d.Account, "delivery", id)
	})
	if err != nil && ctx.Err() != nil {
		// The scheduler is stopping: the delivery, untouched, is still
		// due, and the next scheduler resumes it. Nothing to alert.
		s.log.Info("not resumed: the scheduler stopped while it waited for the account", "delivery", id)
		return d.Account, nil
	}
	if err != nil {
		return d.Account, err
	}
	defer unqueue()
	// The run's end is told once this resume has decided what becomes of
	// the delivery: one whose run could not reach the server is paused
	// for a person until resumeFailed leaves it due for another try, and
	// the summary must not send a person to resume it meanwhile.
	if done := ev.Done; done != nil {
		var ended *SendResult
		ev.Done = func(res *SendResult) { ended = res }
		defer func() {
			if ended != nil {
				s.leftForScheduler(ctx, ended, scheduled)
				done(ended)
			}
		}()
	}
	// Read even if the scheduler is stopping meanwhile: what follows
	// leaves the delivery so, quietly.
	due, err := delivery.StillDue(context.WithoutCancel(ctx), s.db.DB, id, s.now())
	if err != nil {
		return d.Account, err
	}
	if due == nil {
		s.log.Info("not resumed: no longer waiting for the scheduler (paused by hand, cancelled or resumed meanwhile)", "delivery", id)
		return d.Account, nil
	}
	acct, cur, err := s.deliveryAccount(ctx, id)
	if err == nil {
		_, err = s.resumeLocked(ctx, acct, cur, ResumeInput{DailyWait: DefaultDailyWait, onlyCause: due.Cause, scheduled: scheduled}, ev)
	}
	if errors.Is(err, delivery.ErrNotPausedFor) {
		// Paused by hand or cancelled as it was starting: left so.
		s.log.Info("not resumed: no longer waiting for the scheduler (paused by hand, cancelled or resumed meanwhile)", "delivery", id)
		return d.Account, nil
	}
	bg := context.WithoutCancel(ctx)
	switch {
	case ctx.Err() != nil:
		// Stopped with the scheduler: the run, if it started, recorded
		// how; if not, the delivery is still due. One that ran and sent
		// went: the next scheduler's resume starts the count of
		// failures afresh.
		if err == nil || sentSome(d, err) {
			s.resumeWent(bg, id)
		}
		// One that had not started (it was signing in, say) is still
		// due, untouched: nothing to alert, as when the stop comes while
		// it waits for the account.
		if err != nil && !isOutcome(err) {
			if still, serr := delivery.StillDue(bg, s.db.DB, id, s.now()); serr == nil && still != nil {
				s.log.Info("not resumed: the scheduler stopped as the resume was starting", "delivery", id, "err", err)
				return d.Account, nil
			}
		}
	case passingFailure(err):
		if sentSome(d, err) {
			// It reached the server and sent before it lost it: a new
			// failure, whose hour starts now, not the one (read before
			// the run) of an earlier try's.
			due.FailingSince = time.Time{}
		}
		return d.Account, s.resumeFailed(bg, id, due, err)
	case err == nil || isOutcome(err):
		// It ran: done, paused again by the limit, or stopped for a cause
		// it recorded itself (a sign-in, a setting refused), for which
		// the delivery waits for a person. Its resumes no longer fail.
		s.resumeWent(bg, id)
	case resumeNotDone(err) != "":
		// Not tried (the account busy): tried again later.
	default:
		cause := delivery.CauseOther
		if needsSignIn(err) {
			cause = delivery.CauseSignIn
		}
		if _, serr := delivery.StopResuming(bg, s.db.DB, id, cause, "not resumed by the scheduler: "+err.Error()); serr != nil {
			s.log.Error("cannot record why the delivery was not resumed", "delivery", id, "err", serr)
		}
	}
	return d.Account, err
}

// resumeWent clears the record of delivery id's failing resumes: the
// last one did not fail.
func (s *Service) resumeWent(ctx context.Context, id int64) {
	if err := delivery.ResumeNotFailing(ctx, s.db.DB, id); err != nil {
		s.log.Error("cannot record that the delivery's resume went", "delivery", id, "err", err)
	}
}

// resumeFailed handles err, a failure of the scheduler's resume of
// delivery id that may pass by itself: the delivery is left due again
// resumeRetry later, quietly (*resumeRetryError), unless its resumes have
// failed so for resumeGiveUp already; then it waits for a person, paused
// for a server that could not be reached (*ResumeGaveUpError, alerted).
func (s *Service) resumeFailed(ctx context.Context, id int64, due *delivery.Due, err error) error {
	if resumeFailing != nil {
		resumeFailing(id)
	}
	now := s.now()
	since := due.FailingSince
	// Retried long after its retry was due (the computer asleep, no
	// scheduler running, the clock put forward), nothing tried in
	// between: the failures before do not count towards the hour.
	if since.IsZero() || since.After(now) || now.Sub(due.At) > 3*resumeRetry {
		since = now
	}
	if now.Sub(since) < resumeGiveUp {
		if rerr := delivery.RetryResume(ctx, s.db.DB, id, due.Cause, due.Reason, since, now.Add(resumeRetry)); rerr != nil {
			return fmt.Errorf("delivery %d: cannot record its failed resume (%w) after: %w", id, rerr, err)
		}
		return &resumeRetryError{ID: id, Since: since, Err: err}
	}
	gave := &ResumeGaveUpError{ID: id, Since: since, Err: err}
	if _, serr := delivery.StopResuming(ctx, s.db.DB, id, delivery.CauseConnect, "not resumed by the scheduler: "+gave.Error()); serr != nil {
		s.log.Error("cannot record why the delivery was not resumed", "delivery", id, "err", serr)
	}
	return gave
}

// resumeFailing, when set (by tests), is called as resumeFailed begins:
// the resume's run has ended, the delivery not yet due again.
var resumeFailing func(id int64)

// resumeRetryError: the scheduler's resume of delivery ID failed for a
// reason that may pass, and is tried again later; nobody is told yet.
type resumeRetryError struct {
	ID    int64
	Since time.Time // when its resumes began failing
	Err   error
}

func (e *resumeRetryError) Error() string {
	return fmt.Sprintf("delivery %d not resumed (failing since %s): %v", e.ID, e.Since.Format(time.RFC3339), e.Err)
}
func (e *resumeRetryError) Unwrap() error { return e.Err }

// ResumeGaveUpError: the scheduler's resumes of delivery ID failed for
// resumeGiveUp since Since, for reasons that may pass but did not; it no
// longer tries, and a person resumes the delivery once the cause is gone.
type ResumeGaveUpError struct {
	ID    int64
	Since time.Time
	Err   error
}

func (e *ResumeGaveUpError) Error() string {
	return fmt.Sprintf("the scheduler could not resume delivery %d since %s (for %s it tried every %s): %v; "+
		"it does not try again by itself: check the network and the mail server, then run 'bluemoon deliveries resume %d'",
		e.ID, e.Since.Format(time.RFC3339), spokenDuration(resumeGiveUp), spokenDuration(resumeRetry), e.Err, e.ID)
}

func (e *ResumeGaveUpError) Unwrap() error { return e.Err }

// passingFailure says whether err, which ended the scheduler's resume of
// a delivery, may pass by itself: the network, DNS, timeouts reaching the
// token endpoint or the mail server, or a provider's 5xx or 429; the run
// paused because it could not reach the server. A sign-in needed, a
// setting refused, an account removed do not pass by waiting.
func passingFailure(err error) bool {
	if err == nil || needsSignIn(err) {
		return false
	}
	var oe *OutcomeError
	if errors.As(err, &oe) {
		return oe.Outcome.Status == delivery.StatusPaused && oe.Outcome.Cause == delivery.CauseConnect && oe.Outcome.Passing
	}
	switch exitcode.For(err) {
	case exitcode.Usage, exitcode.SignIn:
		return false
	}
	var pe *oauth.ProviderError
	if errors.As(err, &pe) {
		return pe.Status >= 500 || pe.Status == http.StatusTooManyRequests
	}
	// The SMTP and API errors sort their failures themselves; a bare
	// network error (refused, reset, DNS, timeout) passes.
	var classed interface{ Temporary() bool }
	if errors.As(err, &classed) {
		if _, bare := classed.(net.Error); !bare {
			return classed.Temporary()
		}
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// sentSome says whether the run that ended with err gave a recipient of
// delivery d (as it was before the run) an outcome from the server.
func sentSome(d *delivery.Summary, err error) bool {
	var oe *OutcomeError
	if !errors.As(err, &oe) {
		return false
	}
	c := oe.Outcome.Counts
	return c.Sent+c.Failed > d.Counts.Sent+d.Counts.Failed
}

func isOutcome(err error) bool {
	var oe *OutcomeError
	return errors.As(err, &oe)
}

// stoppedWithTheScheduler says whether err is a delivery's pause by the
// scheduler's stopping: the next scheduler resumes it, nobody need act.
func stoppedWithTheScheduler(err error) bool {
	var oe *OutcomeError
	return errors.As(err, &oe) && oe.Outcome.Status == delivery.StatusPaused && oe.Outcome.Cause == delivery.CauseSchedulerStopped
}

// resumeNotDone says why a resume that did not finish its delivery needs
// nobody told ("" when it does): paused again by the daily limit, the
// scheduler resumes it at its new time; with the account busy sending a
// delivery started by hand, or failing for a reason that may pass, it
// tries again later (resumeRetry).
func resumeNotDone(err error) string {
	var oe *OutcomeError
	if errors.As(err, &oe) && oe.Outcome.Status == delivery.StatusPaused && oe.Outcome.Cause == delivery.CauseDailyLimit {
		return "paused again by the daily limit; the scheduler resumes it once the limit resets"
	}
	var busy *BusyError
	if errors.As(err, &busy) && busy.Kind == KindAccount {
		return fmt.Sprintf("the account is sending another delivery; the scheduler tries again in %s", spokenDuration(resumeRetry))
	}
	var retry *resumeRetryError
	if errors.As(err, &retry) {
		return fmt.Sprintf("failed (%v); the scheduler tries again in %s, and alerts if it still fails %s after %s",
			retry.Err, spokenDuration(resumeRetry), spokenDuration(resumeGiveUp), retry.Since.Format(time.RFC3339))
	}
	return ""
}

// RunResumeJob is the scheduler's resume of delivery id, paused by a daily
// limit or stopped with the scheduler (what `bluemoon schedule run
// --resume-delivery ID` does in the scheduler's child process, scheduled
// true there: Job.Scheduled): RunJob of a KindResume job, its alerts to
// notify or, when that is empty, to the home's alert settings; the error
// is the caller's to show (Job.ErrorShown).
func (s *Service) RunResumeJob(ctx context.Context, id int64, scheduled bool, notify alert.Config, ev SendEvents) error {
	if err := s.CheckAlert(ctx, notify); err != nil {
		return err
	}
	return s.RunJob(ctx, Job{Kind: schedule.KindResume, Target: strconv.FormatInt(id, 10), Alert: s.alertOr(ctx, notify), ErrorShown: true, Scheduled: scheduled}, ev)
}
