package core

import (
	"context"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// A delivery the scheduler's own job leaves paused for the scheduler to go
// on with says so in its result (its summary then tells nobody to resume
// it); one a person's run leaves paused does not, for whether a scheduler
// runs is not known then.
func TestSendResultSaysTheSchedulerResumesOnlyForItsJob(t *testing.T) {
	ctx := context.Background()
	for _, scheduled := range []bool{false, true} {
		srv := startSMTP(t, nil)
		svc := newService(t, Options{})
		addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1, PerDay: 2})
		in := newsInput(t, "news", 3)
		in.scheduled = scheduled
		var told *SendResult
		svc.Send(ctx, in, SendEvents{Done: func(r *SendResult) { told = r }})
		if told == nil || told.Outcome == nil || told.Outcome.Cause != delivery.CauseDailyLimit {
			t.Fatalf("scheduled %v: told %+v; want the delivery paused by the daily limit", scheduled, told)
		}
		r := told.SchedulerResume
		switch {
		case !scheduled && r != nil:
			t.Errorf("a person's run: told the scheduler resumes it (%+v)", r)
		case scheduled && (r == nil || r.Cause != delivery.CauseDailyLimit || r.Retrying || !r.At.Equal(told.Outcome.ResumeAfter.Truncate(time.Millisecond))):
			t.Errorf("the scheduler's job: told %+v; want resumed by the scheduler after the limit, at %s", r, told.Outcome.ResumeAfter)
		}
	}
}

// The scheduler's resume whose run cannot reach the mail server is tried
// again later: its summary is told so once that is decided, not as the
// run ends (the delivery then paused for a server that could not be
// reached, which waits for a person).
func TestScheduledResumeThatCannotConnectTellsItsRetry(t *testing.T) {
	svc, _, id, notify, _ := dueForResume(t)
	ctx := context.Background()
	setPort(t, svc, closedPort(t))
	var told *SendResult
	before := time.Now()
	svc.RunResumeJob(ctx, id, true, notify, SendEvents{Done: func(r *SendResult) { told = r }})
	if told == nil || told.Outcome == nil || told.Outcome.Cause != delivery.CauseConnect {
		t.Fatalf("told %+v; want the run's end, paused for a server it could not reach", told)
	}
	r := told.SchedulerResume
	if r == nil || !r.Retrying || r.Cause != delivery.CauseDailyLimit || r.At.Before(before.Add(resumeRetry-time.Minute)) {
		t.Fatalf("told the scheduler resumes it as %+v; want a retry about %s later", r, resumeRetry)
	}
	// Every face reads the same from the delivery's progress.
	p, err := svc.DeliveryProgress(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Scheduler; got == nil || !got.Retrying || !got.At.Equal(r.At) ||
		got.FailingSince.IsZero() || !got.GiveUpAt.Equal(got.FailingSince.Add(resumeGiveUp)) {
		t.Fatalf("progress says the scheduler resumes it as %+v; want retrying at %s, giving up %s after the first failure", got, r.At, resumeGiveUp)
	}
}
