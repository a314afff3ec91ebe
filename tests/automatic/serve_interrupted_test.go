package automatic

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// deliveryCount is how many deliveries the home holds.
func deliveryCount(t *testing.T, home string) int {
	t.Helper()
	var list []json.RawMessage
	r := mustRun(t, home, "deliveries", "list", "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("deliveries list --json: %v\n%s", err, r.Stdout)
	}
	return len(list)
}

// serve stopping (SIGTERM: a service restart, a shutdown) while its
// scheduled delivery's job still waits for the account, before the
// delivery is stored, leaves nothing for a resume to go on with: the
// occurrence is kept on the schedule, `schedule list` says the last run
// was interrupted, and the next serve runs it once — whatever the missed
// policy, for it fell due while serve ran — nobody alerted, each
// recipient getting one message, one delivery in all.
func TestServeStoppedBeforeAScheduledDeliveryBeganRunsItAtTheNextStart(t *testing.T) {
	for _, policy := range []schedule.Missed{schedule.MissedSkip, schedule.MissedRunOnce} {
		t.Run(string(policy), func(t *testing.T) {
			needSh(t)
			h := newOAuthHome(t)
			saveNews(t, h.home)
			alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
			// Another process (here the test) sends through the account.
			unlock, err := schedule.LockAccount(context.Background(), h.home, "sales", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { unlock() }()
			addSchedule(t, h.home, &schedule.Schedule{Name: "weekly", Kind: schedule.KindDelivery, Target: "news",
				At: time.Now().Add(time.Second), TZ: "UTC", Missed: policy, CreatedAt: time.Now()})

			s := startServe(t, h.home, "--notify-cmd", "cat >> "+alerts)
			waitFor(t, "the job to wait for the account", func() bool {
				return strings.Contains(s.errb.String(), "waiting: another delivery through this account is running")
			})
			if code, out := s.stop(t); code != 0 {
				t.Fatalf("serve exit %d after SIGTERM\n%s", code, out)
			}
			if n := len(h.smtp.Messages()); n != 0 {
				t.Fatalf("%d message(s) sent while the account was busy", n)
			}
			if n := deliveryCount(t, h.home); n != 0 {
				t.Fatalf("%d deliveries stored by a run stopped before it began; want none", n)
			}
			if list := mustRun(t, h.home, "schedule", "list").Stdout; !strings.Contains(list, "interrupted (runs when serve starts)") {
				t.Fatalf("schedule list does not say the last run was interrupted:\n%s", list)
			}
			unlock()
			unlock = func() {}

			r := mustRun(t, h.home, "serve", "--once", "--notify-cmd", "cat >> "+alerts)
			if !strings.Contains(r.Stderr, "stopped with the scheduler before it sent anything: running it now") {
				t.Fatalf("the next serve does not say it runs the interrupted run:\n%s", r.Stderr)
			}
			eachOnce(t, h)
			if n := deliveryCount(t, h.home); n != 1 {
				t.Fatalf("%d deliveries; want 1", n)
			}
			// Done: a later serve runs nothing more.
			mustRun(t, h.home, "serve", "--once", "--notify-cmd", "cat >> "+alerts)
			if n := len(h.smtp.Messages()); n != 3 {
				t.Fatalf("%d messages after another serve; want 3", n)
			}
			list := mustRun(t, h.home, "schedule", "list").Stdout
			if strings.Contains(list, "interrupted") || !strings.Contains(list, "exit 0") {
				t.Fatalf("schedule list after the run: want exit 0, not interrupted:\n%s", list)
			}
			if evs := readEvents(t, alerts); len(evs) != 0 {
				t.Fatalf("alerts: %+v; want none (nobody had anything to do)", evs)
			}
		})
	}
}

// The same when serve stops while its job signs in to a slow mail server
// (the delivery's list already read and stored): the delivery is given up
// unsent, and the next serve runs the occurrence once.
func TestServeStoppedWhileAScheduledDeliverySignsInRunsItAtTheNextStart(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	saveNews(t, h.home)
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	gate := make(chan struct{})
	h.signInGate.Store(&gate)
	released := false
	release := func() {
		if !released {
			released = true
			close(gate)
		}
	}
	defer release()
	addSchedule(t, h.home, &schedule.Schedule{Name: "weekly", Kind: schedule.KindDelivery, Target: "news",
		At: time.Now().Add(time.Second), TZ: "UTC", Missed: schedule.MissedSkip, CreatedAt: time.Now()})

	s := startServe(t, h.home, "--notify-cmd", "cat >> "+alerts)
	waitFor(t, "the job to sign in", func() bool { return h.signInHeld.Load() > 0 })
	time.Sleep(300 * time.Millisecond)
	stopped := make(chan struct{})
	var code int
	var out string
	go func() { defer close(stopped); code, out = s.stop(t) }()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		release()
		<-stopped
		t.Fatalf("serve did not stop while its job signed in\n%s", out)
	}
	release()
	h.signInGate.Store(nil)
	if code != 0 {
		t.Fatalf("serve exit %d after SIGTERM\n%s", code, out)
	}
	if n := len(h.smtp.Messages()); n != 0 {
		t.Fatalf("%d message(s) sent by a job stopped as it signed in", n)
	}
	if list := mustRun(t, h.home, "schedule", "list").Stdout; !strings.Contains(list, "interrupted (runs when serve starts)") {
		t.Fatalf("schedule list does not say the last run was interrupted:\n%s\nserve:\n%s", list, out)
	}
	mustRun(t, h.home, "serve", "--once", "--notify-cmd", "cat >> "+alerts)
	eachOnce(t, h)
	if n := deliveryCount(t, h.home); n != 1 {
		t.Fatalf("%d deliveries; want 1 (the one given up as it signed in is not kept)", n)
	}
	mustRun(t, h.home, "serve", "--once", "--notify-cmd", "cat >> "+alerts)
	if n := len(h.smtp.Messages()); n != 3 {
		t.Fatalf("%d messages after another serve; want 3", n)
	}
	if evs := readEvents(t, alerts); len(evs) != 0 {
		t.Fatalf("alerts: %+v; want none", evs)
	}
}
