package core

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// A scheduled preflight or keep-alive that the scheduler's stop cuts short
// (a shutdown the morning before a delivery) found nothing wrong: it ends
// quietly, where it used to alert "preflight failed: context canceled". A
// preflight that finds a real problem still alerts.
func TestScheduledCheckStoppedWithTheSchedulerIsQuiet(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	d := saveMonthly(t, svc, srv)
	notify, alerted := resumeAlerts(t)
	stopped, stop := context.WithCancel(context.Background())
	stop()
	for _, j := range []Job{
		{Schedule: "weekly", Kind: schedule.KindDelivery, Target: "monthly", Preflight: true},
		{Schedule: "daily-test", Kind: schedule.KindKeepAlive, Target: "news"},
	} {
		j.Scheduled, j.Alert = true, notify
		err := svc.RunJob(stopped, j, SendEvents{})
		var cs *CheckStoppedError
		if !errors.As(err, &cs) || exitcode.For(err) != exitcode.Paused || QuietEnd(j.Kind, err) == "" {
			t.Errorf("%s %s stopped with the scheduler: %v (exit %d); want a quiet CheckStoppedError", j.Kind, j.Target, err, exitcode.For(err))
		}
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted for checks the scheduler's stop cut short:\n%s", a)
	}

	if err := os.WriteFile(d.Recipients, []byte("email,name\nnot-an-address,A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := svc.RunJob(context.Background(), Job{Schedule: "weekly", Kind: schedule.KindDelivery, Target: "monthly", Preflight: true,
		Scheduled: true, Alert: notify}, SendEvents{})
	if err == nil || !strings.Contains(alerted(), "preflight") {
		t.Fatalf("a preflight finding a bad list: %v; alerts %q; want it alerted", err, alerted())
	}
}
