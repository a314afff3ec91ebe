package automatic

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
)

// A scheduled delivery whose job pauses on the daily limit is the
// scheduler's to go on with: serve's output and the log file say so
// ("paused by the daily limit; the scheduler resumes it after …"), not
// "job did not succeed … exit=5" as a failed job's line would; the first
// pause still alerts (delivery_paused, as the docs say), in words that
// say the scheduler goes on with it, and the schedule's last message
// says the same instead of a bare exit status.
func TestServeSaysAJobPausedByTheDailyLimitIsResumedNotFailed(t *testing.T) {
	needSh(t)
	h, alerts := dueOverTheDailyLimit(t)

	r := run(t, h.home, "serve", "--once")
	if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "daily_limit" {
		t.Fatalf("after serve: %s (%s); want paused by the daily limit\n%s", status, cause, r.Stderr)
	}
	logText, err := os.ReadFile(filepath.Join(h.home, "logs", "bluemoon.log"))
	if err != nil {
		t.Fatal(err)
	}
	const said = "paused by the daily limit; the scheduler resumes it after "
	for what, text := range map[string]string{"serve's output": r.Stdout + r.Stderr, "the log file": string(logText)} {
		if strings.Contains(text, "did not succeed") || strings.Contains(text, "level=ERROR") {
			t.Errorf("%s calls the job a failure:\n%s", what, text)
		}
		if !strings.Contains(text, `msg="delivery: `+said) {
			t.Errorf("%s has no line saying the scheduler resumes the delivery:\n%s", what, text)
		}
	}
	evs := readEvents(t, alerts)
	if len(evs) != 1 || evs[0].Kind != alert.DeliveryPaused {
		t.Fatalf("alerts %+v; want one delivery_paused", evs)
	}
	if msg := evs[0].Message; !strings.Contains(msg, "(delivery 1) "+said) || strings.Contains(msg, "fail") || strings.Contains(msg, "exit 5") {
		t.Errorf("the alert says %q; want it to say the scheduler resumes delivery 1, not that it failed", msg)
	}
	var views []struct {
		Name        string `json:"name"`
		LastMessage string `json:"last_message"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, h.home, "schedule", "list", "--json").Stdout), &views); err != nil || len(views) != 1 {
		t.Fatalf("schedule list --json: %v %+v", err, views)
	}
	if !strings.HasPrefix(views[0].LastMessage, "delivery 1 "+said) {
		t.Errorf("the schedule's last message is %q; want it to say the scheduler resumes delivery 1", views[0].LastMessage)
	}
}
