package automatic

import (
	"path/filepath"
	"testing"
	"time"
)

// A cron line's serve --once left in place when serve was installed as a
// service: while serve resumes a delivery, serve --once leaves the work
// to it (it neither resumes the delivery a second time nor waits for
// it), and nobody gets a message twice.
func TestServeOnceBesideARunningServeSendsNothingTwice(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	pausedForADay(t, h, "--per-day", "100", "--per-minute", "1")

	s := startServe(t, h.home, "--notify-cmd", "cat >> "+alerts)
	waitFor(t, "serve's resume's first message", func() bool { return len(h.smtp.Messages()) == 2 })
	for range 3 {
		r := mustRun(t, h.home, "serve", "--once", "--notify-cmd", "cat >> "+alerts)
		if r.Took > 20*time.Second {
			t.Fatalf("serve --once waited %s for the running serve's work\n%s", r.Took, r.Stderr)
		}
	}
	if code, out := s.stop(t); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, out)
	}
	nextServeFinishesQuietly(t, h, alerts)
}
