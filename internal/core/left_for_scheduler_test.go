package core

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// The scheduler's job (here the console's scheduler, in this process)
// whose delivery pauses on the daily limit logs that the scheduler resumes
// it, not that the job "did not succeed"; its alert (the first pause's, as
// documented) and the schedule's last message say the same. The same run
// started by a person is still a pause for a person: whether a scheduler
// runs is not known then.
func TestScheduledJobPausedByTheDailyLimitIsNotLoggedAsAFailure(t *testing.T) {
	ctx := context.Background()
	for _, scheduled := range []bool{true, false} {
		var logged bytes.Buffer
		srv := startSMTP(t, nil)
		svc := newService(t, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
		saveMonthly(t, svc, srv)
		if _, err := svc.EditAccount(ctx, "news", AccountInput{PerDay: Ptr(1)}); err != nil {
			t.Fatal(err)
		}
		notify, alerted := resumeAlerts(t)
		var msg string
		if scheduled {
			res := JobRunner{Service: svc, Alert: notify}.Run(ctx, schedule.Job{Schedule: &schedule.Schedule{Name: "monthly", Kind: schedule.KindDelivery, Target: "monthly"}})
			if res.ExitCode != exitcode.Paused || res.Cause != delivery.CauseDailyLimit {
				t.Fatalf("the scheduler's job: %+v; want paused by the daily limit", res)
			}
			msg = res.Message
		} else {
			svc.RunJob(ctx, Job{Kind: schedule.KindDelivery, Target: "monthly", Alert: notify}, SendEvents{})
		}
		const said = "paused by the daily limit; the scheduler resumes it after "
		log, a := logged.String(), alerted()
		switch {
		case !strings.Contains(a, "delivery_paused"):
			t.Errorf("scheduled %v: alerts %q; want the pause alerted", scheduled, a)
		case scheduled && (strings.Contains(log, "did not succeed") || !strings.Contains(log, `msg="delivery: `+said)):
			t.Errorf("the scheduler's job is logged as a failure, or without the scheduler's plan:\n%s", log)
		case scheduled && (!strings.Contains(a, said) || strings.Contains(a, "exit 5")):
			t.Errorf("the scheduler's job's alert %q does not say the scheduler resumes it", a)
		case scheduled && !strings.Contains(msg, said):
			t.Errorf("the scheduler's job's result says %q; want the scheduler's plan", msg)
		case !scheduled && (!strings.Contains(log, "did not succeed") || strings.Contains(log+a, said)):
			t.Errorf("a person's run is said to be resumed by the scheduler:\n%s\nalert %s", log, a)
		}
	}
}

// Each plan the scheduler may have for a delivery reads after "delivery
// 12 " in serve's note and the alert, with its times.
func TestSchedulerResumeSentence(t *testing.T) {
	at := time.Date(2026, 12, 4, 9, 35, 0, 0, time.UTC)
	since := at.Add(-20 * time.Minute)
	for _, c := range []struct {
		r    SchedulerResume
		want string
	}{
		{SchedulerResume{Cause: delivery.CauseDailyLimit, At: at}, "paused by the daily limit; the scheduler resumes it after " + at.Local().Format(sentenceTime)},
		{SchedulerResume{Cause: delivery.CauseSchedulerStopped, At: at}, "stopped with the scheduler; the scheduler resumes it when it runs next"},
		{SchedulerResume{Cause: delivery.CauseDailyLimit, At: at, Retrying: true, FailingSince: since, GiveUpAt: since.Add(resumeGiveUp)},
			"paused; the scheduler's resume of it failed, it tries again at " + at.Local().Format(sentenceTime) +
				", and stops trying and alerts if it still fails at " + since.Add(resumeGiveUp).Local().Format(sentenceTime)},
	} {
		if got := c.r.Sentence(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}
