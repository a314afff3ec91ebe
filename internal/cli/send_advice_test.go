package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// The advice after a delivery's summary: a person is sent to resume it
// only when the scheduler will not go on with it by itself.
func TestSendSummaryAdvice(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 5, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		cause     string
		scheduler *core.SchedulerResume
		want      string
	}{
		{"a person's pause", delivery.CauseByHand, nil, "Go on with 'bluemoon deliveries resume 7'."},
		{"daily limit", delivery.CauseDailyLimit, &core.SchedulerResume{Cause: delivery.CauseDailyLimit, At: at},
			"The scheduler resumes it by itself after 2026-12-04 09:05 UTC ('bluemoon deliveries pause 7' keeps it waiting for you)."},
		{"stopped with the scheduler", delivery.CauseSchedulerStopped, &core.SchedulerResume{Cause: delivery.CauseSchedulerStopped, At: at},
			"The scheduler resumes it by itself when it runs next ('bluemoon deliveries pause 7' keeps it waiting for you)."},
		{"its resume failing", delivery.CauseConnect, &core.SchedulerResume{Cause: delivery.CauseDailyLimit, At: at, Retrying: true, FailingSince: at.Add(-10 * time.Minute)},
			"The scheduler could not resume it (see the reason); it tries again at 2026-12-04 09:05 UTC ('bluemoon deliveries pause 7' keeps it waiting for you)."},
	} {
		t.Run(c.name, func(t *testing.T) {
			app, out := newTestApp(t.TempDir(), "", false)
			app.Location = time.UTC
			p := &sendPrinter{app: app}
			p.done(&core.SendResult{SchedulerResume: c.scheduler,
				Outcome: &delivery.Outcome{ID: 7, Status: delivery.StatusPaused, Cause: c.cause, Reason: "why"}})
			if !strings.Contains(out.String(), c.want) {
				t.Fatalf("summary:\n%s\nwant %q", out, c.want)
			}
			if c.scheduler != nil && strings.Contains(out.String(), "deliveries resume") {
				t.Fatalf("summary sends a person to resume what the scheduler resumes:\n%s", out)
			}
		})
	}
}
