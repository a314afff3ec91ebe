package core

import (
	"context"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// The console's scheduler (jobs in its own process) stopping while a
// scheduled delivery waits for its account, before the delivery is
// stored: the run is recorded as interrupted, quietly, and the next
// scheduler — serve --once here — runs it once, under skip too.
func TestInProcessSchedulerStoppedBeforeADeliveryBeganRunsItNextTime(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	saveMonthly(t, svc, srv)
	notify, alerted := resumeAlerts(t)
	ctx := context.Background()
	if _, err := svc.AddSchedule(ctx, ScheduleInput{Name: "weekly", Kind: schedule.KindDelivery, Target: "monthly",
		At: time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339), TZ: "UTC", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	unlock, err := schedule.LockAccount(ctx, svc.Home(), "news", nil)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(sctx, ServeOptions{Alert: notify, Poll: 100 * time.Millisecond}) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sc, err := svc.Schedule(ctx, "weekly")
		if err != nil {
			t.Fatal(err)
		}
		if !sc.LastDue.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not take the run")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the job waits for the account
	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	unlock()
	sc, err := svc.Schedule(ctx, "weekly")
	if err != nil || sc.Interrupted.IsZero() || !sc.LastInterrupted || srv.Count() != 0 {
		t.Fatalf("after the stop: %+v (%v), %d sent; want the run recorded as interrupted, nothing sent", sc.Schedule, err, srv.Count())
	}
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 3 {
		t.Fatalf("after the next scheduler: %d sent; want 3", srv.Count())
	}
	if sc, _ := svc.Schedule(ctx, "weekly"); !sc.Interrupted.IsZero() || sc.LastInterrupted || sc.LastExit != 0 {
		t.Fatalf("after the rerun: %+v", sc.Schedule)
	}
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil || srv.Count() != 3 {
		t.Fatalf("another pass: %v, %d sent; want nothing more", err, srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}
