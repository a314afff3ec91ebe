package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
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
	if end := readJobEnd(file); end.Cause != "daily_limit" || !strings.Contains(end.Error, "paused") || end.Delivery != 1 {
		t.Fatalf("the job left %+v; want the cause daily_limit, delivery 1 and its error", end)
	}
}

// limitWindowPasses moves the account's sending and the deliveries' resume
// times a day and an hour back, as if the day's window had reopened.
func limitWindowPasses(t *testing.T, home string) {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`UPDATE send_log SET minute = minute - 1500`,
		`UPDATE deliveries SET resume_after = resume_after - 1500 * 60000 WHERE resume_after > 0`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// Once the delivery a scheduled run left paused for the scheduler has
// gone on — the scheduler's resume finished it, or a person cancelled or
// paused it — the schedule's last run says what became of it, not that
// the scheduler resumes it.
func TestScheduleListSaysWhatBecameOfTheDeliveryTheSchedulerResumed(t *testing.T) {
	needSh(t)
	pausedByTheLimit := func(t *testing.T) string {
		home := t.TempDir()
		useInProcessServe(t)
		sendingNews(t, home, nil, provider.Limits{Connections: 1, PerDay: 1}, "email,name\na@example.com,A\nb@example.com,B\n")
		addOverdue(t, home, schedule.MissedRunOnce, "cat >> "+filepath.Join(t.TempDir(), "alert.json"))
		mustRun(t, home, "serve", "--once")
		if r := mustRun(t, home, "schedule", "list"); !strings.Contains(r.Stdout, "exit 5, paused by the daily limit (the scheduler resumes it)") {
			t.Fatalf("schedule list:\n%s", r.Stdout)
		}
		return home
	}
	for _, tc := range []struct {
		name  string
		then  func(t *testing.T, home string)
		want  string
		state string
	}{
		{"the scheduler resumed it to the end", func(t *testing.T, home string) {
			limitWindowPasses(t, home)
			mustRun(t, home, "serve", "--once")
		}, "exit 5, delivery 1 paused by the daily limit, then finished", "done"},
		{"a person cancelled it", func(t *testing.T, home string) {
			mustRun(t, home, "deliveries", "cancel", "1")
		}, "exit 5, delivery 1 paused by the daily limit, then cancelled", "cancelled"},
		{"a person paused it", func(t *testing.T, home string) {
			mustRun(t, home, "deliveries", "pause", "1")
		}, "exit 5, delivery 1 paused: waits for 'bluemoon deliveries resume 1'", "paused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := pausedByTheLimit(t)
			tc.then(t, home)
			r := mustRun(t, home, "schedule", "list")
			if !strings.Contains(r.Stdout, tc.want) || strings.Contains(r.Stdout, "the scheduler resumes it") {
				t.Errorf("schedule list: want %q, and not that the scheduler resumes it\n%s", tc.want, r.Stdout)
			}
			r = mustRun(t, home, "schedule", "list", "--json")
			if !strings.Contains(r.Stdout, `"state": "`+tc.state+`"`) {
				t.Errorf("schedule list --json: want the delivery's state %q\n%s", tc.state, r.Stdout)
			}
		})
	}
}
