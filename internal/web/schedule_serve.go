package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// The console and `bluemoon serve` share a home without stepping on each
// other: the console only reads and writes schedules, and runs them itself
// only when asked and when no scheduler holds the home's serve lock — the
// same lock serve takes, so there is never a second scheduler. Schedules
// run this way stop when the console stops.

// hereServe is the scheduler this console runs on request.
type hereServe struct {
	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // why the last one ended (nil while running, or stopped by hand)
	started time.Time
}

// running reports whether this console runs the schedules now.
func (h *hereServe) running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runningLocked()
}

func (h *hereServe) runningLocked() bool {
	if h.done == nil {
		return false
	}
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// begin records a new run unless one is under way; two presses of the
// button at once start one scheduler, whose cancel stays reachable.
func (h *hereServe) begin(cancel context.CancelFunc, done chan struct{}) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.runningLocked() {
		return false
	}
	h.cancel, h.done, h.err, h.started = cancel, done, nil, time.Now()
	return true
}

// stop ends the console's scheduler (its jobs finish or pause as serve's
// do on Ctrl-C) and waits for it.
func (h *hereServe) stop() {
	h.mu.Lock()
	cancel, done := h.cancel, h.done
	h.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// serveState is what the page says about who runs the schedules.
type serveState struct {
	Here       bool      // this console runs them
	Since      time.Time // since when (Here)
	Elsewhere  bool      // another process (bluemoon serve) does
	Ended      string    // why this console's scheduler ended by itself
	ProbeError string
	Install    string // how to run them permanently on this system
}

// state is whether the scheduler runs, since when, and why the last one
// ended, read under one lock so that all three tell of the same run.
func (h *hereServe) state() (running bool, since time.Time, ended error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runningLocked(), h.started, h.err
}

func (s *Server) serveState() serveState {
	var st serveState
	here, since, ended := s.here.state()
	if here {
		st.Here, st.Since = true, since
	} else {
		if ended != nil {
			st.Ended = ended.Error()
		}
		on, err := s.svc.ServeRunning()
		if err != nil {
			st.ProbeError = err.Error()
		}
		st.Elsewhere = on
	}
	if !st.Elsewhere {
		if plan, err := s.svc.PlanInstall(schedule.Install{}); err == nil {
			st.Install, _ = plan.Text("")
		}
	}
	return st
}

// serveHere runs the schedules in this console until it stops (or is told
// to stop), unless a scheduler already runs for the home.
func (s *Server) serveHere(w http.ResponseWriter, r *http.Request) {
	if s.here.running() {
		http.Redirect(w, r, "/schedules?serving=1", http.StatusSeeOther)
		return
	}
	if on, _ := s.svc.ServeRunning(); on {
		http.Redirect(w, r, "/schedules?serve_busy=1", http.StatusSeeOther)
		return
	}
	// Not the request's context: the scheduler outlives the request, and
	// here.stop (the button, or Serve returning) ends it.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	if !s.here.begin(cancel, done) {
		cancel()
		http.Redirect(w, r, "/schedules?serving=1", http.StatusSeeOther)
		return
	}
	go func() {
		defer close(done)
		err := s.svc.Serve(ctx, core.ServeOptions{})
		if err != nil {
			s.logf("console: running the schedules: %v", err)
		}
		s.here.mu.Lock()
		s.here.err = err
		s.here.mu.Unlock()
	}()
	// Serve takes the lock at once, or ends at once when another process
	// won it in the meantime: wait for either before saying which.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			http.Redirect(w, r, "/schedules?serve_busy=1", http.StatusSeeOther)
			return
		default:
		}
		if on, _ := s.svc.ServeRunning(); on {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.logf("console: running the schedules of this home until the console stops")
	http.Redirect(w, r, "/schedules?serving=1", http.StatusSeeOther)
}

func (s *Server) serveHereStop(w http.ResponseWriter, r *http.Request) {
	s.here.stop()
	http.Redirect(w, r, "/schedules?stopped=1", http.StatusSeeOther)
}
