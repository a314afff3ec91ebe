package automatic

import (
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// A scheduled delivery serve starts that pauses on the daily limit is the
// scheduler's to resume: its summary on serve's output says so, and does
// not then send a person to 'deliveries resume' as a delivery paused for
// a person's action would.
func TestServeJobPausedForTheSchedulerDoesNotSendAPersonToResume(t *testing.T) {
	needSh(t)
	h, _ := dueOverTheDailyLimit(t)

	r := run(t, h.home, "serve", "--once")
	if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "daily_limit" {
		t.Fatalf("after serve: %s (%s); want paused by the daily limit\n%s", status, cause, r.Stderr)
	}
	out := r.Stdout + r.Stderr
	if !strings.Contains(out, "Delivery 1 paused") {
		t.Fatalf("serve's output has no summary of the job's delivery:\n%s", out)
	}
	if strings.Contains(out, "deliveries resume 1") {
		t.Errorf("serve's output sends a person to resume a delivery the scheduler resumes:\n%s", out)
	}
	if !strings.Contains(out, "The scheduler resumes it by itself after ") || !strings.Contains(out, "'bluemoon deliveries pause 1' keeps it waiting for you") {
		t.Errorf("serve's output does not say the scheduler resumes it, and how to keep it for a person:\n%s", out)
	}
}

// The same for a delivery serve's stop pauses mid-send: the reason says
// the next scheduler resumes it, and so does the advice after it.
func TestServeStoppedMidSendDoesNotSendAPersonToResume(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	mustRun(t, h.home, "account", "edit", "sales", "--per-minute", "1")
	saveNews(t, h.home)
	addSchedule(t, h.home, &schedule.Schedule{Name: "monthly", Kind: schedule.KindDelivery, Target: "news",
		At: time.Now().Add(time.Second), TZ: "UTC", Missed: schedule.MissedSkip, CreatedAt: time.Now()})
	s := startServe(t, h.home)
	waitFor(t, "the job's first message", func() bool { return len(h.smtp.Messages()) == 1 })
	time.Sleep(500 * time.Millisecond) // it waits for the next minute now
	code, out := s.stop(t)
	if status, cause := deliveryCause(t, h.home, 1); code != 0 || status != "paused" || cause != "scheduler_stopped" {
		t.Fatalf("after serve stopped: exit %d, delivery %s (%s); want 0, paused, stopped with the scheduler\n%s", code, status, cause, out)
	}
	if !strings.Contains(out, "Delivery 1 paused") {
		t.Fatalf("serve's output has no summary of the job's delivery:\n%s", out)
	}
	if strings.Contains(out, "deliveries resume 1") {
		t.Errorf("serve's output sends a person to resume a delivery the next scheduler resumes:\n%s", out)
	}
	if !strings.Contains(out, "The scheduler resumes it by itself when it runs next ('bluemoon deliveries pause 1' keeps it waiting for you).") {
		t.Errorf("serve's output does not say the next scheduler resumes it:\n%s", out)
	}
}

// dueOverTheDailyLimit is an OAuth home whose account sends one message a
// day and whose schedule "monthly", due now (missed runs skipped), runs
// the saved delivery "news" of three recipients; alerts is where its
// alerts go (saveNews).
func dueOverTheDailyLimit(t *testing.T) (h *oauthHome, alerts string) {
	t.Helper()
	h = newOAuthHome(t)
	mustRun(t, h.home, "account", "edit", "sales", "--per-day", "1")
	alerts = saveNews(t, h.home)
	addSchedule(t, h.home, &schedule.Schedule{Name: "monthly", Kind: schedule.KindDelivery, Target: "news",
		At: time.Now().Add(-10 * time.Second), TZ: "UTC", Missed: schedule.MissedSkip, CreatedAt: time.Now().Add(-time.Minute)})
	return h, alerts
}
