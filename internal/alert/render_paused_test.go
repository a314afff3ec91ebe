package alert

import (
	"strings"
	"testing"
	"time"
)

// The delivery_paused e-mail's advice holds for a pause the scheduler goes
// on with by itself (a scheduled delivery's first daily-limit pause) as for
// one a person must resume: it does not send the reader to resume it.
func TestPausedAlertAdviceDoesNotSendAPersonToResumeWhatTheSchedulerResumes(t *testing.T) {
	_, body := Render(Event{Kind: DeliveryPaused, Account: "sales", Delivery: "news", Time: time.Now(),
		Message: "delivery news (delivery 1) paused by the daily limit; the scheduler resumes it after 2026-12-04 09:12 JST"})
	if strings.Contains(body, "carries on") || !strings.Contains(body, "'bluemoon deliveries show ID' says whether the scheduler goes on with it") {
		t.Fatalf("the alert's advice sends a person to resume it, or does not say where to see who goes on with it:\n%s", body)
	}
}
