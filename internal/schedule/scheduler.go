package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
)

// Job is one thing the scheduler asks its Runner to do.
type Job struct {
	Schedule  *Schedule
	Due       time.Time // the occurrence this job is for
	Preflight bool      // a check ahead of Due, not the run itself
	Missed    int       // occurrences missed while the scheduler was down (run-once catch-up)
	// Rerun: the run of Due stopped with the scheduler before it sent
	// anything, and this job runs it again.
	Rerun bool
}

// Result is what a job came to. ExitCode follows internal/exitcode.
type Result struct {
	ExitCode int
	Message  string
	// Interrupted: the job stopped with the scheduler before its delivery
	// was stored (it sent nothing): the next scheduler runs the occurrence.
	Interrupted bool
	// NotStarted: the job could not be started at all (the bluemoon
	// program missing or not runnable; Message says why): it did
	// nothing, and raised no alert itself.
	NotStarted bool
	// Cause: the job's delivery paused for a cause the scheduler resumes
	// by itself (its code: "scheduler_stopped", "daily_limit"), kept on
	// the schedule as LastCause; "" otherwise.
	Cause string
	// Delivery: with Cause, the ID of that delivery (LastDelivery).
	Delivery int64
}

// Runner does the work of a job. The real one starts `bluemoon schedule run`
// in a child process; tests use a fake.
type Runner interface {
	Run(ctx context.Context, job Job) Result
}

// AccountOf tells which account a schedule sends through (for the
// one-delivery-per-account rule).
type AccountOf func(ctx context.Context, s *Schedule) (string, error)

// Scheduler runs schedules from a Store on a Clock.
type Scheduler struct {
	Store     *Store
	Clock     Clock
	Runner    Runner
	AccountOf AccountOf
	Log       *slog.Logger
	Notifier  *alert.Notifier // for run_missed alerts; may be nil
	// DefaultAlert is where alerts of schedules without their own go.
	DefaultAlert alert.Config
	// Grace is how late a run may start and still count as on time; older
	// occurrences are "missed" and follow the schedule's policy. It absorbs
	// a slow start-up and lets `serve --once` from a minutely cron job work.
	Grace time.Duration
	// Poll bounds the sleep between looks at the store, so schedules added,
	// paused or removed by other commands are seen while serve runs.
	Poll time.Duration
	// OnWait, when set, is called when a delivery waits for its account.
	OnWait func(job Job, account string)

	locks accountLocks
	wg    sync.WaitGroup
}

// DefaultGrace and DefaultPoll are the serve defaults.
const (
	DefaultGrace = 2 * time.Minute
	DefaultPoll  = 15 * time.Second
)

// Serve runs until ctx ends: it handles what is due, sleeps until the next
// thing (or Poll), and repeats. It waits for started jobs before returning.
func (s *Scheduler) Serve(ctx context.Context) error {
	defer s.wg.Wait()
	poll := s.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	for {
		now := s.Clock.Now()
		next, err := s.Tick(ctx, now)
		if err != nil {
			s.Log.Error("scheduler", "err", err)
		}
		wait := poll
		if !next.IsZero() && next.Sub(now) < wait {
			wait = max(next.Sub(now), 0)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.Clock.After(wait):
		}
	}
}

// Wait blocks until every job started by Tick has finished.
func (s *Scheduler) Wait() { s.wg.Wait() }

// Tick starts every job due at now (each in its own goroutine) and returns
// when the next occurrence or preflight falls (zero if none).
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (time.Time, error) {
	if ctx.Err() != nil {
		// Stopping: an occurrence recorded as handled now would only be
		// interrupted before it began.
		return time.Time{}, nil
	}
	list, err := s.Store.List(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("read schedules: %w", err)
	}
	var wake time.Time
	for _, sc := range list {
		if sc.Paused {
			continue
		}
		next, err := s.tickOne(ctx, sc, now)
		if err != nil {
			s.Log.Error("schedule", "schedule", sc.Name, "err", err)
			continue
		}
		if !next.IsZero() && (wake.IsZero() || next.Before(wake)) {
			wake = next
		}
	}
	return wake, nil
}

// maxCatchUp bounds the walk over missed occurrences (an "@every 1m"
// schedule down for a year).
const maxCatchUp = 100000

func (s *Scheduler) tickOne(ctx context.Context, sc *Schedule, now time.Time) (time.Time, error) {
	next, err := sc.Next(sc.base())
	if err != nil {
		return time.Time{}, err
	}
	// A run that stopped with the scheduler before its delivery was
	// stored sent nothing, and no resume goes on with it: it is run again
	// now, whatever the --missed policy, for it fell due while the
	// scheduler ran (the policy is for runs due while none did), and a
	// delivery stopped a moment later, while sending, is resumed whatever
	// the policy too. Only a later occurrence already due supersedes it:
	// then it counts as one of the runs missed, and the policy decides.
	interrupted := sc.Interrupted
	if !interrupted.IsZero() && sc.Kind == KindDelivery && (next.IsZero() || next.After(now)) {
		if _, err := s.Store.Update(ctx, sc.Name, func(x *Schedule) error { x.takeInterrupted(interrupted); return nil }); err != nil {
			return time.Time{}, err
		}
		sc.Interrupted = time.Time{}
		s.Log.Warn("scheduled run stopped with the scheduler before it sent anything: running it now", "schedule", sc.Name, "due", interrupted.Format(time.RFC3339), "policy", string(sc.Missed))
		s.start(ctx, Job{Schedule: sc, Due: interrupted, Rerun: true})
	}
	if !next.IsZero() && !next.After(now) {
		// Walk to the latest occurrence not after now, counting the earlier ones.
		last, count := next, 1
		for i := 0; i < maxCatchUp; i++ {
			n, err := sc.Next(last)
			if err != nil {
				return time.Time{}, err
			}
			if n.IsZero() || n.After(now) {
				break
			}
			last, count = n, count+1
		}
		onTime := now.Sub(last) <= s.grace()
		missed := count
		if onTime {
			missed = count - 1
		}
		if !interrupted.IsZero() {
			missed++ // the interrupted run, superseded by this one
			s.Log.Warn("a scheduled run stopped with the scheduler before it sent anything; a later run is due now and takes its place", "schedule", sc.Name, "interrupted_due", interrupted.Format(time.RFC3339))
		}
		// Record the occurrence as handled before running it: a crash while it
		// runs must not run it again at the next start (the delivery itself
		// is resumed with `deliveries resume`, which never sends twice).
		if _, err := s.Store.Update(ctx, sc.Name, func(x *Schedule) error {
			x.LastDue = last
			x.takeInterrupted(interrupted)
			return nil
		}); err != nil {
			return time.Time{}, err
		}
		sc.LastDue, sc.Interrupted = last, time.Time{}
		switch {
		case onTime:
			if missed > 0 {
				s.Log.Warn("missed scheduled runs while serve was down; running the current one", "schedule", sc.Name, "missed", missed, "policy", string(sc.Missed))
			}
			s.start(ctx, Job{Schedule: sc, Due: last, Missed: missed})
		case sc.Missed == MissedRunOnce:
			s.Log.Warn("missed scheduled run while serve was down: running it once now", "schedule", sc.Name, "missed", missed, "last_due", last.Format(time.RFC3339), "policy", string(sc.Missed))
			s.start(ctx, Job{Schedule: sc, Due: last, Missed: missed})
		default:
			s.Log.Warn("missed scheduled run while serve was down: skipped", "schedule", sc.Name, "missed", missed, "last_due", last.Format(time.RFC3339), "policy", string(sc.Missed))
			if s.Notifier != nil {
				cfg := sc.Alert
				if cfg.IsZero() {
					cfg = s.DefaultAlert
				}
				s.Notifier.Notify(ctx, cfg, alert.Event{Kind: alert.RunMissed, Schedule: sc.Name, Delivery: deliveryName(sc),
					Message: fmt.Sprintf("schedule %s missed %d run(s) while bluemoon serve was not running (last due %s); skipped as its policy says",
						sc.Name, missed, last.Format(time.RFC3339)), Time: now})
			}
		}
		if next, err = sc.Next(last); err != nil {
			return time.Time{}, err
		}
	}
	if next.IsZero() {
		return time.Time{}, nil
	}
	wake := next
	if sc.Kind == KindDelivery && sc.Preflight > 0 {
		// For runs closer together than the preflight time (hourly, say),
		// check halfway between runs rather than right after each one.
		window := sc.Preflight
		if gap := next.Sub(sc.LastDue); !sc.LastDue.IsZero() && gap <= window {
			window = gap / 2
		}
		at := next.Add(-window)
		switch {
		case sc.PreflightFor.Equal(next):
		case !now.Before(at):
			if _, err := s.Store.Update(ctx, sc.Name, func(x *Schedule) error { x.PreflightFor = next; return nil }); err != nil {
				return time.Time{}, err
			}
			sc.PreflightFor = next
			s.start(ctx, Job{Schedule: sc, Due: next, Preflight: true})
		default:
			wake = at
		}
	}
	return wake, nil
}

func (s *Scheduler) grace() time.Duration {
	if s.Grace > 0 {
		return s.Grace
	}
	return DefaultGrace
}

func deliveryName(sc *Schedule) string {
	if sc.Kind == KindDelivery {
		return sc.Target
	}
	return ""
}

func (s *Scheduler) start(ctx context.Context, job Job) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.execute(ctx, job)
	}()
}

func (s *Scheduler) execute(ctx context.Context, job Job) {
	sc := job.Schedule
	what := "run"
	if job.Preflight {
		what = "preflight"
	}
	if sc.Kind == KindDelivery && !job.Preflight && s.AccountOf != nil {
		acct, err := s.AccountOf(ctx, sc)
		if err != nil {
			s.Log.Error("schedule: cannot tell the account", "schedule", sc.Name, "err", err)
		} else {
			unlock, err := s.locks.lock(ctx, acct, func() {
				s.Log.Info("waiting: another scheduled delivery is using the account", "schedule", sc.Name, "account", acct)
				if s.OnWait != nil {
					s.OnWait(job, acct)
				}
			})
			if err != nil {
				s.interrupted(ctx, job)
				return
			}
			defer unlock()
		}
	}
	if sc.Kind == KindDelivery && !job.Preflight && ctx.Err() != nil {
		s.interrupted(ctx, job)
		return
	}
	s.Log.Info("schedule "+what+" starts", "schedule", sc.Name, "kind", string(sc.Kind), "target", sc.Target, "due", job.Due.Format(time.RFC3339))
	res := s.Runner.Run(ctx, job)
	s.Log.Info("schedule "+what+" ended", "schedule", sc.Name, "exit", res.ExitCode, "message", res.Message)
	if res.NotStarted {
		s.notStarted(ctx, job, res)
	}
	if job.Preflight {
		return
	}
	at := s.Clock.Now().UTC()
	if _, err := s.Store.Update(context.WithoutCancel(ctx), sc.Name, func(x *Schedule) error {
		x.LastRunAt, x.LastExit, x.LastMessage, x.LastInterrupted, x.LastCause, x.LastDelivery = at, res.ExitCode, res.Message, false, "", 0
		if sc.Kind == KindDelivery && res.Cause != "" {
			x.LastCause, x.LastDelivery = res.Cause, res.Delivery
		}
		// The job says it stopped before it sent anything, or (a child
		// process) recorded so itself: the next scheduler runs it.
		if sc.Kind == KindDelivery && (res.Interrupted || x.Interrupted.Equal(job.Due)) {
			x.markInterrupted(job.Due)
		}
		return nil
	}); err != nil {
		s.Log.Error("schedule: record the result", "schedule", sc.Name, "err", err)
	}
}

// interrupted records that job, a scheduled delivery, stopped with the
// scheduler before it started: the next scheduler runs its occurrence.
func (s *Scheduler) interrupted(ctx context.Context, job Job) {
	s.Log.Info("schedule run stopped with the scheduler before it started; the scheduler runs it when it starts next", "schedule", job.Schedule.Name, "due", job.Due.Format(time.RFC3339))
	if err := s.Store.MarkInterrupted(context.WithoutCancel(ctx), job.Schedule.Name, job.Due, s.Clock.Now()); err != nil {
		s.Log.Error("schedule: record the interrupted run", "schedule", job.Schedule.Name, "err", err)
	}
}

// notStarted alerts that job could not be started at all: nothing ran to
// say so. Once per occurrence (or preflight): each is started once.
func (s *Scheduler) notStarted(ctx context.Context, job Job, res Result) {
	sc := job.Schedule
	kind, what, cmd := alert.DeliveryFailed, "run", "bluemoon schedule run "+sc.Name
	switch {
	case job.Preflight:
		kind, what, cmd = alert.PreflightFailed, "preflight", cmd+" --preflight"
	case sc.Kind == KindKeepAlive:
		kind, what = alert.KeepAliveFailed, "keep-alive"
	}
	msg := fmt.Sprintf("schedule %s: the scheduler could not start its %s due %s, which did not happen: %s; "+
		"check that the bluemoon program it runs is installed and runs (reinstall it, then restart 'bluemoon serve'), then run '%s'",
		sc.Name, what, job.Due.Format(time.RFC3339), res.Message, cmd)
	if s.Notifier == nil {
		s.Log.Error(msg, "schedule", sc.Name)
		return
	}
	// The alert is logged too, once.
	cfg := sc.Alert
	if cfg.IsZero() {
		cfg = s.DefaultAlert
	}
	s.Notifier.Notify(context.WithoutCancel(ctx), cfg, alert.Event{Kind: kind, Schedule: sc.Name, Delivery: deliveryName(sc),
		Message: msg, ExitCode: res.ExitCode, Time: s.Clock.Now()})
}
