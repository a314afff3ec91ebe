package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// A scheduled run whose delivery paused for the daily limit, which the
// scheduler resumes by itself, is listed so: not as a bare exit 5 a
// person would take for theirs to resume.
func TestScheduleListSaysTheSchedulerResumesARunPausedByTheLimit(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	useInProcessServe(t)
	sendingNews(t, home, nil, provider.Limits{Connections: 1, PerDay: 1}, "email,name\na@example.com,A\nb@example.com,B\n")
	addOverdue(t, home, schedule.MissedRunOnce, "cat >> "+filepath.Join(t.TempDir(), "alert.json"))
	mustRun(t, home, "serve", "--once")
	if r := mustRun(t, home, "schedule", "list"); !strings.Contains(r.Stdout, "exit 5, paused by the daily limit (the scheduler resumes it)") {
		t.Fatalf("schedule list:\n%s", r.Stdout)
	}
	if r := mustRun(t, home, "schedule", "list", "--json"); !strings.Contains(r.Stdout, `"last_cause": "daily_limit"`) {
		t.Fatalf("schedule list --json:\n%s", r.Stdout)
	}
}

// What a job serve runs leaves in its --error-file: the cause its
// delivery paused for when the scheduler resumes it by itself, with or
// without an error to say.
func TestScheduledRunLeavesServeTheCauseTheSchedulerResumes(t *testing.T) {
	home := t.TempDir()
	sendingNews(t, home, nil, provider.Limits{Connections: 1, PerDay: 1}, "email,name\na@example.com,A\nb@example.com,B\n")
	mustRun(t, home, "schedule", "add", "daily", "--run", "news", "--cron", "0 9 * * *", "--preflight", "0")
	file := filepath.Join(t.TempDir(), "error.txt")
	if r := runCLI(t, home, "", "schedule", "run", "--unattended", "--error-file", file, "daily"); r.Code != 5 {
		t.Fatalf("schedule run: exit %d\n%s", r.Code, r.Stderr)
	}
	if end := readJobEnd(file); end.Cause != "daily_limit" || !strings.Contains(end.Error, "paused") {
		t.Fatalf("the job left %+v; want the cause daily_limit and its error", end)
	}
}
