package web

import (
	"net/http"
	"sync"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// The permanent set-up of `bluemoon serve` written in one click, as
// `bluemoon schedule install --write` does: the systemd user units on
// Linux, the launch agent on macOS, the Task Scheduler definition on
// Windows. What was written, and the one command left to type, are kept
// so the page after the redirect (and a reload of it) can say them.

// installResult is the last write of the set-up from this console.
type installResult struct {
	mu      sync.Mutex
	written *core.InstallWritten
	err     string
}

// installShown is what the schedules page says about it.
type installShown struct {
	Files []string
	Next  string
	Err   string
}

func (s *Server) scheduleInstall(w http.ResponseWriter, r *http.Request) {
	plan, err := s.svc.PlanInstall(schedule.Install{})
	var written *core.InstallWritten
	if err == nil {
		written, err = s.svc.InstallWrite(plan)
	}
	s.install.mu.Lock()
	s.install.written, s.install.err = written, ""
	if err != nil {
		s.install.err = err.Error()
		s.logf("console: writing the set-up of bluemoon serve: %v", err)
	} else {
		s.logf("console: wrote the set-up of bluemoon serve: %v", written.Files)
	}
	s.install.mu.Unlock()
	http.Redirect(w, r, "/schedules?installed=1#runner", http.StatusSeeOther)
}

// installShown is the last write's outcome, for the page after it.
func (s *Server) installShown() *installShown {
	s.install.mu.Lock()
	defer s.install.mu.Unlock()
	if s.install.written == nil && s.install.err == "" {
		return nil
	}
	out := &installShown{Err: s.install.err}
	if w := s.install.written; w != nil {
		out.Files, out.Next = w.Files, w.Next
	}
	return out
}
