package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
)

// slowDue is a delivery (id) of 5 recipients whose account allowed 2 the
// first day, due for the scheduler's resume a day later, its account now
// sending one message a minute: a resume sends one, then waits, still
// running, for the next minute.
func slowDue(t *testing.T) (*Service, *smtptest.Server, int64) {
	t.Helper()
	svc, srv, id := pausedAfterTwo(t, 5)
	dayPasses(t, svc)
	setLimits(t, svc, 1, 100)
	return svc, srv, id
}

func setLimits(t *testing.T, svc *Service, perMinute, perDay int) {
	t.Helper()
	if _, err := svc.EditAccount(context.Background(), "news", AccountInput{PerMinute: &perMinute, PerDay: &perDay}); err != nil {
		t.Fatal(err)
	}
}

// stopAfter runs the scheduler's resume of id (as its child would:
// scheduled tells whether the scheduler started it) and stops it, as
// the scheduler's SIGTERM would, once the server has n messages.
func stopAfter(t *testing.T, svc *Service, srv *smtptest.Server, id int64, n int64, scheduled bool, notify alert.Config) error {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		for srv.Count() < n && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // the run is waiting for the next minute
		stop()
	}()
	return svc.RunResumeJob(ctx, id, scheduled, notify, SendEvents{})
}

// A delivery the scheduler's job is sending when the scheduler stops
// (serve's SIGTERM, a shutdown, the console quitting) pauses cleanly for
// the next scheduler, without an alert (nobody need act), and the next
// scheduler's pass — serve --once here — resumes it where it stopped.
func TestDeliveryStoppedWithTheSchedulerIsResumedByTheNext(t *testing.T) {
	svc, srv, id := slowDue(t)
	ctx := context.Background()
	notify, alerted := resumeAlerts(t)
	err := stopAfter(t, svc, srv, id, 3, true, notify)
	var oe *OutcomeError
	if !errors.As(err, &oe) {
		t.Fatalf("resume stopped with the scheduler: %v", err)
	}
	d, _ := svc.Delivery(ctx, id)
	if d.Status != delivery.StatusPaused || d.Cause != delivery.CauseSchedulerStopped || srv.Count() != 3 {
		t.Fatalf("after the scheduler stopped: %s (%s: %s), %d sent; want paused for the scheduler, 3 sent", d.Status, d.Cause, d.Reason, srv.Count())
	}
	setLimits(t, svc, 600, 100)
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusDone || srv.Count() != 5 {
		t.Fatalf("after the next serve: %s (%s), %d sent; want done, 5 sent", d.Status, d.Cause, srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

// The same stop of a job a person started (`schedule run
// --resume-delivery ID` typed in, without serve's --scheduled) waits for
// them, as a Ctrl-C of `send` does; and a pause by hand of a delivery
// stopped with the scheduler holds.
func TestDeliveryStoppedByAPersonOrPausedByHandIsNotResumed(t *testing.T) {
	ctx := context.Background()
	t.Run("a person's job", func(t *testing.T) {
		svc, srv, id := slowDue(t)
		stopAfter(t, svc, srv, id, 3, false, alert.Config{})
		setLimits(t, svc, 600, 100)
		if err := svc.Serve(ctx, ServeOptions{Once: true}); err != nil {
			t.Fatal(err)
		}
		if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseStopped || srv.Count() != 3 {
			t.Fatalf("%s (%s), %d sent; want left paused (stopped), 3 sent", d.Status, d.Cause, srv.Count())
		}
	})
	t.Run("paused by hand", func(t *testing.T) {
		svc, srv, id := slowDue(t)
		stopAfter(t, svc, srv, id, 3, true, alert.Config{})
		if _, err := svc.PauseDelivery(ctx, id); err != nil {
			t.Fatal(err)
		}
		setLimits(t, svc, 600, 100)
		if err := svc.Serve(ctx, ServeOptions{Once: true}); err != nil {
			t.Fatal(err)
		}
		if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseByHand || srv.Count() != 3 {
			t.Fatalf("%s (%s), %d sent; want left paused by hand, 3 sent", d.Status, d.Cause, srv.Count())
		}
	})
}

// The scheduler stopping as its resume job starts (a service restarted
// right after it started, a shutdown at boot) leaves the delivery due for
// the next scheduler, and alerts nobody.
func TestResumeJobStoppedAsItStartsIsQuiet(t *testing.T) {
	svc, srv, id := slowDue(t)
	notify, alerted := resumeAlerts(t)
	ctx, stop := context.WithCancel(context.Background())
	stop()
	if err := svc.RunResumeJob(ctx, id, true, notify, SendEvents{}); err != nil {
		t.Logf("resume job: %v", err)
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
	due, err := delivery.DueForResume(context.Background(), svc.db.DB, time.Now())
	if err != nil || len(due) != 1 || due[0] != id || srv.Count() != 2 {
		t.Fatalf("due %v (%v), %d sent; want delivery %d still due, 2 sent", due, err, srv.Count(), id)
	}
}
