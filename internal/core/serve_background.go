package core

import (
	"context"
	"errors"
	"sync"
	"time"
)

// A long-lived process (the web console) can run the schedules of its home
// itself, on request, when no `bluemoon serve` does: Serve in the
// background, under the same serve lock, so there is never a second
// scheduler. It runs until StopServe or Close.

// ServeStart is what StartServe did.
type ServeStart int

const (
	// ServeStarted: this process runs the schedules now.
	ServeStarted ServeStart = iota + 1
	// ServeAlreadyHere: it did already; nothing changed.
	ServeAlreadyHere
	// ServeBusy: another scheduler (`bluemoon serve`, another console)
	// holds the home's serve lock.
	ServeBusy
)

// ServeStatus is the scheduler StartServe runs in this process.
type ServeStatus struct {
	Running bool
	// Since is when the last one started (zero: none yet).
	Since time.Time
	// Ended is why the last one ended by itself; nil while it runs, when
	// it was stopped (StopServe, Close), or when none ran.
	Ended error
}

// errServeOnce: StartServe runs until stopped; a pass over what is due
// now is Serve's job.
var errServeOnce = errors.New("StartServe runs the schedules until stopped: use Serve for Once")

// errServeStopped: the scheduler was stopped before it took the lock.
var errServeStopped = errors.New("the scheduler was stopped as it started")

// StartServe runs the schedules of this home in the background of this
// process (Serve with opt, until StopServe or Close), unless a scheduler
// already runs for the home, here or in another process. It returns once
// the new scheduler holds the serve lock (ServeStarted), or has ended: a
// scheduler that won the lock in the meantime makes it ServeBusy, any
// other reason (a bad opt.Alert…) is the error, and ServeStatus says it
// too. ctx bounds only that wait; the scheduler outlives it. Two calls at
// once start one scheduler.
func (s *Service) StartServe(ctx context.Context, opt ServeOptions) (ServeStart, error) {
	if opt.Once {
		return 0, errServeOnce
	}
	if s.served.running() {
		return ServeAlreadyHere, nil
	}
	// A failed probe is no answer: let Serve's own lock decide.
	if on, _ := s.ServeRunning(); on {
		if s.served.running() {
			return ServeAlreadyHere, nil // started here since the first look
		}
		return ServeBusy, nil
	}
	// Background work: Close stops it (jobs finish or pause as on Ctrl-C)
	// and waits for it before closing the database under it.
	if err := s.background(); err != nil {
		return 0, err
	}
	ctx2, cancel := context.WithCancel(s.bg)
	done := make(chan struct{})
	if !s.served.begin(cancel, done, s.now()) {
		cancel()
		s.wg.Done()
		return ServeAlreadyHere, nil
	}
	locked := make(chan struct{})
	// This run's own end: a run started right after it must not answer
	// for it.
	ended := make(chan error, 1)
	go func() {
		defer s.wg.Done()
		err := s.serve(ctx2, opt, func() { close(locked) })
		cancel()
		if err != nil {
			s.log.Error("the scheduler of this process stopped", "home", s.home, "err", err)
		}
		s.served.end(done, err)
		ended <- err
	}()
	var err error
	select {
	case <-locked:
		return ServeStarted, nil
	case <-ctx.Done():
		return ServeStarted, nil // still starting: ServeStatus will say how it went
	case err = <-ended:
	}
	var busy *BusyError
	switch {
	case errors.As(err, &busy):
		return ServeBusy, nil
	case err == nil:
		return 0, errServeStopped
	}
	return 0, err
}

// StopServe stops the scheduler StartServe runs in this process, if any
// (its jobs finish or pause as serve's do on Ctrl-C), and waits for it.
func (s *Service) StopServe() { s.served.stop() }

// ServeStatus says whether this process runs the schedules (StartServe),
// since when, and why the last scheduler ended. ServeRunning says whether
// any process does.
func (s *Service) ServeStatus() ServeStatus {
	running, since, ended := s.served.state()
	return ServeStatus{Running: running, Since: since, Ended: ended}
}

// bgServe is the one scheduler StartServe runs in this process.
type bgServe struct {
	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	started time.Time
}

func (b *bgServe) running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.runningLocked()
}

func (b *bgServe) runningLocked() bool {
	if b.done == nil {
		return false
	}
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// begin records a new run unless one is under way, checked and recorded
// under one lock so that two starts at once make one scheduler, whose
// cancel stays reachable.
func (b *bgServe) begin(cancel context.CancelFunc, done chan struct{}, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.runningLocked() {
		return false
	}
	b.cancel, b.done, b.err, b.started = cancel, done, nil, now
	return true
}

// end records why the run ended, then says it ended: whoever sees done
// closed reads the reason of this run.
func (b *bgServe) end(done chan struct{}, err error) {
	b.mu.Lock()
	b.err = err
	b.mu.Unlock()
	close(done)
}

func (b *bgServe) stop() {
	b.mu.Lock()
	cancel, done := b.cancel, b.done
	b.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// state is read under one lock so that all three tell of the same run.
func (b *bgServe) state() (running bool, since time.Time, ended error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.runningLocked(), b.started, b.err
}
