package cli

import (
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

// A saved delivery a schedule runs is not removed: the schedule would
// fail at its next run, with nobody there. The error names the schedule.
func TestSavedRemoveRefusedWhileScheduled(t *testing.T) {
	home := t.TempDir()
	saveNews(t, home)
	mustRun(t, home, "schedule", "add", "monthly", "--run", "news", "--cron", "0 9 1 * *")
	r := runCLI(t, home, "", "deliveries", "saved", "remove", "news")
	if r.Code != exitcode.Usage || !strings.Contains(r.Stderr, "schedule monthly") {
		t.Fatalf("remove while scheduled: exit %d\n%s", r.Code, r.Stderr)
	}
	mustRun(t, home, "schedule", "remove", "monthly")
	mustRun(t, home, "deliveries", "saved", "remove", "news")
}
