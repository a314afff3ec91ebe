package automatic

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// serve's output says each failed job's error, once, in one line: the
// job's own lines saying it go to the log file alone (it shows its error
// itself), so without serve's line its output had nothing but an exit
// code. The log file gets no second copy from serve.
func TestServeSaysAFailedJobsErrorOnce(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	mustRun(t, h.home, "schedule", "keepalive", "sales", "--send-test")
	h.auth.RevokeUser(mailbox)
	withDB(t, h.home, func(db *store.DB) {
		if _, err := (&schedule.Store{DB: db.DB}).Update(context.Background(), "keepalive-sales", func(s *schedule.Schedule) error {
			s.CreatedAt, s.LastDue = time.Now().Add(-48*time.Hour), time.Time{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	r := mustRun(t, h.home, "serve", "--once")
	var said []string
	for _, line := range strings.Split(r.Stderr, "\n") {
		if strings.Contains(line, "AADSTS50173") {
			said = append(said, line)
		}
	}
	if len(said) != 1 || !strings.Contains(said[0], "keepalive-sales") || !strings.Contains(said[0], "exit=4") || !strings.Contains(said[0], "bluemoon login sales") {
		t.Fatalf("serve's output says the job's error in %d lines, want 1 naming the schedule, its exit code and what to do:\n%s", len(said), r.Stderr)
	}
	logText, err := os.ReadFile(filepath.Join(h.home, "logs", "bluemoon.log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(logText), "job did not succeed") {
		t.Fatalf("serve's line is in the log file too:\n%s", logText)
	}
	if !strings.Contains(string(logText), `msg="keep-alive did not succeed"`) {
		t.Fatalf("the job's own line is not in the log file:\n%s", logText)
	}
}

// The same for a delivery that ran and did not succeed: its job prints
// its outcome, not an error, and serve's output had no line saying the
// job failed and why.
func TestServeSaysAFailedDeliveryOnce(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	saveNews(t, h.home)
	h.smtp.SetUnknownRecipients([]string{"bob@example.org"})
	addSchedule(t, h.home, &schedule.Schedule{Name: "monthly", Kind: schedule.KindDelivery, Target: "news",
		At: time.Now().Add(-10 * time.Second), TZ: "UTC", Missed: schedule.MissedSkip, CreatedAt: time.Now().Add(-time.Minute)})
	r := run(t, h.home, "serve", "--once")
	var said []string
	for _, line := range strings.Split(r.Stderr, "\n") {
		if strings.Contains(line, "did not succeed") {
			said = append(said, line)
		}
	}
	if len(said) != 1 || !strings.Contains(said[0], "schedule=monthly") || !strings.Contains(said[0], "exit=3") || !strings.Contains(said[0], "1 failed") {
		t.Fatalf("serve's output says the failed delivery in %d lines, want 1 naming the schedule, its exit code and the failures:\n%s", len(said), r.Stderr)
	}
	logText, err := os.ReadFile(filepath.Join(h.home, "logs", "bluemoon.log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(logText), "job did not succeed") {
		t.Fatalf("serve's line is in the log file too:\n%s", logText)
	}
}
