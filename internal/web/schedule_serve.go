package web

import (
	"net/http"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// The console and `bluemoon serve` share a home without stepping on each
// other: the console only reads and writes schedules, and runs them itself
// only when asked and when no scheduler holds the home's serve lock — the
// same lock serve takes, so there is never a second scheduler (core's
// StartServe). Schedules run this way stop when the console stops.

// serveState is what the page says about who runs the schedules.
type serveState struct {
	Here       bool      // this console runs them
	Since      time.Time // since when (Here)
	Elsewhere  bool      // another process (bluemoon serve) does
	Ended      string    // why this console's scheduler ended by itself
	ProbeError string
	Install    string // how to run them permanently on this system
}

func (s *Server) serveState() serveState {
	var st serveState
	here := s.svc.ServeStatus()
	if here.Running {
		st.Here, st.Since = true, here.Since
	} else {
		if here.Ended != nil {
			st.Ended = here.Ended.Error()
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
	started, err := s.svc.StartServe(r.Context(), core.ServeOptions{})
	switch {
	case err != nil:
		// It ended as it started; the page's state says why.
		s.logf("console: running the schedules: %v", err)
		http.Redirect(w, r, "/schedules?serve_busy=1", http.StatusSeeOther)
		return
	case started == core.ServeBusy:
		http.Redirect(w, r, "/schedules?serve_busy=1", http.StatusSeeOther)
		return
	case started == core.ServeStarted:
		s.logf("console: running the schedules of this home until the console stops")
	}
	http.Redirect(w, r, "/schedules?serving=1", http.StatusSeeOther)
}

func (s *Server) serveHereStop(w http.ResponseWriter, r *http.Request) {
	s.svc.StopServe()
	http.Redirect(w, r, "/schedules?stopped=1", http.StatusSeeOther)
}
