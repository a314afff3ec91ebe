package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// ServeOptions tune Serve.
type ServeOptions struct {
	// Once handles what is due now and returns (a minutely cron job or
	// timer), instead of running until ctx ends.
	Once bool
	// Grace is how late a run may start and still count as on time rather
	// than missed (default schedule.DefaultGrace).
	Grace time.Duration
	// Poll is how often to look for schedules changed by other processes
	// (default schedule.DefaultPoll).
	Poll time.Duration
	// Alert is where alerts of schedules without their own go.
	Alert alert.Config
	// Runner does each job. Default: in this process, unattended (RunJob).
	// The CLI runs each in a child process instead, so a crash of one job
	// does not take the scheduler with it.
	Runner schedule.Runner
}

// Serve runs the schedules of this home until ctx ends: each scheduled
// delivery at its time (one per account at a time; a second waits), its
// preflight ahead of it, and the keep-alives; runs missed while nothing
// served follow each schedule's missed policy. It resumes each delivery
// paused by a daily limit once that limit has reset (see serve_resume.go),
// and checks, at start and daily, every OAuth account's refresh token
// against the lifetimes the providers enforce. Alerts of schedules without their own go to
// opt.Alert, or when it is empty to the home's AlertSettings. One
// scheduler per home: a second is a *BusyError (with Once it just
// returns, leaving the work to the first).
func (s *Service) Serve(ctx context.Context, opt ServeOptions) error {
	return s.serve(ctx, opt, func() {})
}

// serve is Serve, calling locked once it holds the home's serve lock (not
// with opt.Once): StartServe waits for that, or for the end, before it
// says whether this process runs the schedules.
func (s *Service) serve(ctx context.Context, opt ServeOptions, locked func()) error {
	// 0 is the default; a negative value used to be taken for it, unsaid.
	if opt.Grace < 0 {
		return fieldErr("grace", CodeInvalid, "--grace %s: must not be negative; give 0 for the default (%s) or a duration such as 5m", opt.Grace, schedule.DefaultGrace)
	}
	if opt.Poll < 0 {
		return fieldErr("poll", CodeInvalid, "--poll %s: must not be negative; give 0 for the default (%s) or a duration such as 30s", opt.Poll, schedule.DefaultPoll)
	}
	if err := s.CheckAlert(ctx, opt.Alert); err != nil {
		return err
	}
	unlock, ok, err := s.lockServe()
	if err != nil {
		return err
	}
	if !ok {
		if opt.Once {
			s.log.Info("serve --once: another bluemoon serve is handling the schedules of this home")
			return nil
		}
		return &BusyError{Kind: KindServe, Name: s.home, Message: fmt.Sprintf("another 'bluemoon serve' is running for %s", s.home)}
	}
	// Jobs get opt.Alert as given and read the home's alert settings at
	// each run when it is empty (JobRunner, or the child's RunSchedule), so
	// settings changed in the console reach a scheduler already running.
	// Missed-run alerts, sent by the scheduler itself, keep those read now.
	runner := opt.Runner
	if runner == nil {
		runner = JobRunner{Service: s, Alert: opt.Alert}
	}
	sch := &schedule.Scheduler{
		Store: s.schedules(), Clock: schedule.RealClock{}, Runner: runner,
		AccountOf: func(ctx context.Context, sc *schedule.Schedule) (string, error) {
			d, err := s.saved().Get(ctx, sc.Target)
			if err != nil {
				return "", err
			}
			return d.Account, nil
		},
		Log: s.log, Notifier: s.notifier(), DefaultAlert: s.alertOr(ctx, opt.Alert), Grace: opt.Grace, Poll: opt.Poll,
	}
	resumes := newResumer(s, runner, opt.Alert)
	if opt.Once {
		_, err := sch.Tick(ctx, s.now())
		resumes.pass(ctx)
		// The decisions are recorded: let the next --once (a minute later)
		// handle other schedules while these jobs run (a delivery being
		// resumed is running by then, or its lock turns a second resume
		// away).
		unlock()
		sch.Wait()
		resumes.wg.Wait()
		return err
	}
	defer unlock()
	locked()
	s.log.Info("serve started", "home", s.home, "pid", os.Getpid())
	// The token and daily-limit watches end with the scheduler and are
	// waited for: they read the database, which Close (after waiting for
	// serve) closes, and a query then under way would finish on a closed
	// Service.
	wctx, stopWatch := context.WithCancel(ctx)
	var watches sync.WaitGroup
	watches.Go(func() { s.watchTokenLifetimes(wctx, opt.Alert) })
	watches.Go(func() { resumes.watch(wctx, opt.Poll) })
	err = sch.Serve(ctx)
	stopWatch()
	watches.Wait()
	s.log.Info("serve stopped")
	return err
}

// watchTokenLifetimes runs CheckTokenLifetimes now and every day until ctx
// ends, alerting to notify or, when it is empty, to the home's alert
// settings of that day.
func (s *Service) watchTokenLifetimes(ctx context.Context, notify alert.Config) {
	for {
		s.CheckTokenLifetimes(ctx, s.alertOr(ctx, notify), s.now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

// JobRunner runs the scheduler's jobs in this process, unattended, with
// their alerts (Alert for schedules without their own, else the home's
// alert settings).
type JobRunner struct {
	Service *Service
	Alert   alert.Config
}

// Run does one job of the scheduler.
func (r JobRunner) Run(ctx context.Context, j schedule.Job) schedule.Result {
	cfg := j.Schedule.Alert
	if cfg.IsZero() {
		cfg = r.Service.alertOr(ctx, r.Alert)
	}
	err := r.Service.RunJob(ctx, Job{Schedule: j.Schedule.Name, Kind: j.Schedule.Kind, Target: j.Schedule.Target,
		SendTest: j.Schedule.SendTest, Preflight: j.Preflight, Alert: cfg, Scheduled: true, Due: j.Due}, SendEvents{})
	code := exitcode.For(err)
	if code == exitcode.OK {
		return schedule.Result{ExitCode: code, Message: "ok"}
	}
	var ir *InterruptedRunError
	return schedule.Result{ExitCode: code, Message: errText(err, string(j.Schedule.Kind), j.Schedule.Target), Interrupted: errors.As(err, &ir),
		Cause: ResumedCause(err), Delivery: ResumedDelivery(err)}
}
