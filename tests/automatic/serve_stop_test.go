package automatic

import (
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

func deliveryCause(t *testing.T, home string, id int) (status, cause string) {
	t.Helper()
	var d struct{ Status, Cause string }
	r := mustRun(t, home, "deliveries", "show", strconv.Itoa(id), "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatalf("deliveries show --json: %v\n%s", err, r.Stdout)
	}
	return d.Status, d.Cause
}

// eachOnce fails unless every recipient of saveNews got one message.
func eachOnce(t *testing.T, h *oauthHome) {
	t.Helper()
	got := map[string]int{}
	for _, m := range h.smtp.Messages() {
		for _, rcpt := range m.To {
			got[rcpt]++
		}
	}
	for _, want := range []string{"alice@example.org", "bob@example.org", "sato@example.org"} {
		if got[want] != 1 {
			t.Errorf("%s got %d message(s), want 1 (all: %v)", want, got[want], got)
		}
	}
}

// pausedForADay has h's saved delivery "news" (delivery 1, three
// recipients) send one message and pause on the account's daily limit of
// one, then lets a day pass and edits the account with then (its new
// limits): delivery 1 is due for the scheduler's resume.
func pausedForADay(t *testing.T, h *oauthHome, then ...string) {
	t.Helper()
	mustRun(t, h.home, "account", "edit", "sales", "--per-day", "1")
	saveNews(t, h.home)
	if r := run(t, h.home, "run", "news", "--unattended"); r.Code != 5 || len(h.smtp.Messages()) != 1 {
		t.Fatalf("first day: exit %d, %d sent; want 5, 1 sent\n%s", r.Code, len(h.smtp.Messages()), r.Stderr)
	}
	dayPasses(t, h.home)
	mustRun(t, h.home, append([]string{"account", "edit", "sales"}, then...)...)
}

// startScheduledResume starts the resume of delivery 1 as serve starts
// its job (schedule run --scheduled, its input a pipe serve holds) and
// waits for its first message; done has the job's end. A job still
// running when the test ends is killed.
func startScheduledResume(t *testing.T, h *oauthHome) (cmd *exec.Cmd, in io.WriteCloser, out *testbin.Buffer, done chan error) {
	t.Helper()
	cmd = exec.Command(binary(t), "--home", h.home, "schedule", "run", "--unattended", "--scheduled", "--resume-delivery", "1")
	cmd.Env, _ = env(t)
	out = &testbin.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done = waitInBackground(t, cmd, func() { cmd.Process.Kill() })
	waitFor(t, "the job's first message", func() bool { return len(h.smtp.Messages()) == 2 })
	return cmd, in, out, done
}

// serveStopsMidSend starts serve, waits for its job to have sent `after`
// messages in all and to be waiting for the next minute (the account
// sends one a minute), stops serve with SIGTERM (a service stop, a
// shutdown) and checks that delivery 1 paused for the next scheduler.
func serveStopsMidSend(t *testing.T, h *oauthHome, alerts string, after int) {
	t.Helper()
	s := startServe(t, h.home, "--notify-cmd", "cat >> "+alerts)
	waitFor(t, "the job's first message", func() bool { return len(h.smtp.Messages()) == after })
	time.Sleep(500 * time.Millisecond) // it waits for the next minute now
	if code, out := s.stop(t); code != 0 {
		t.Fatalf("serve exit %d after SIGTERM\n%s", code, out)
	}
	if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "scheduler_stopped" {
		t.Fatalf("after serve stopped: %s (%s); want paused, stopped with the scheduler", status, cause)
	}
	show := mustRun(t, h.home, "deliveries", "show", "1").Stdout
	if !strings.Contains(show, "resumes it by itself when it runs next") {
		t.Fatalf("deliveries show does not say the scheduler resumes it:\n%s", show)
	}
	if list := mustRun(t, h.home, "deliveries", "list").Stdout; !strings.Contains(list, "paused (the scheduler resumes it)") {
		t.Fatalf("deliveries list does not say the scheduler resumes it:\n%s", list)
	}
}

// serve stopping (SIGTERM: a service restart, a shutdown) while its job
// resumes a delivery paused by the daily limit pauses that delivery
// cleanly, and the next serve — a cron line's serve --once — goes on with
// it: nobody resumes it by hand, nobody is alerted, nobody gets two.
func TestServeStoppedMidResumeIsResumedByTheNextServe(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	pausedForADay(t, h, "--per-day", "100", "--per-minute", "1")

	serveStopsMidSend(t, h, alerts, 2)

	nextServeFinishesQuietly(t, h, alerts)
}

// The same for a scheduled delivery serve starts at its time.
func TestServeStoppedMidScheduledDeliveryIsResumedByTheNextServe(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	mustRun(t, h.home, "account", "edit", "sales", "--per-minute", "1")
	saveNews(t, h.home)
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	addSchedule(t, h.home, &schedule.Schedule{Name: "monthly", Kind: schedule.KindDelivery, Target: "news",
		At: time.Now().Add(time.Second), TZ: "UTC", Missed: schedule.MissedSkip, CreatedAt: time.Now()})

	serveStopsMidSend(t, h, alerts, 1)
	// The schedule says what happened to its run, as the job told serve:
	// not a failure for a person to resume.
	if list := mustRun(t, h.home, "schedule", "list").Stdout; !strings.Contains(list, "exit 5, paused: the scheduler stopped as it sent (the scheduler resumes it)") {
		t.Fatalf("schedule list does not say the scheduler resumes the run:\n%s", list)
	}
	if list := mustRun(t, h.home, "schedule", "list", "--json").Stdout; !strings.Contains(list, `"last_cause": "scheduler_stopped"`) {
		t.Fatalf("schedule list --json:\n%s", list)
	}

	nextServeFinishesQuietly(t, h, alerts)
	// And once the next serve has finished it, says so.
	if list := mustRun(t, h.home, "schedule", "list").Stdout; !strings.Contains(list, "exit 5, delivery 1 paused as the scheduler stopped, then finished") ||
		strings.Contains(list, "the scheduler resumes it") {
		t.Fatalf("schedule list does not say the delivery finished since:\n%s", list)
	}
}

// serve killed outright (Task Scheduler's End task, an OOM kill) can
// tell its job nothing, but the job's input ends with it: the delivery
// pauses cleanly for the next serve rather than go on unwatched, and the
// next serve --once finishes it.
func TestServeKilledMidResumeLeavesItForTheNextServe(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	pausedForADay(t, h, "--per-day", "100", "--per-minute", "1")
	s := startServe(t, h.home, "--notify-cmd", "cat >> "+alerts)
	waitFor(t, "the job's first message", func() bool { return len(h.smtp.Messages()) == 2 })
	time.Sleep(500 * time.Millisecond)
	s.cmd.Process.Kill()
	<-s.done
	waitFor(t, "the job to pause", func() bool {
		status, cause := deliveryCause(t, h.home, 1)
		return status == "paused" && cause == "scheduler_stopped"
	})
	nextServeFinishesQuietly(t, h, alerts)
}

// systemd stops a service by sending SIGTERM to each of its processes,
// serve's jobs too (and Windows tells every program of a shutdown): a
// job serve started (schedule run --scheduled) takes it as the scheduler
// stopping, not as a death that leaves the delivery for a person. So it
// takes the end of its standard input, the pipe serve holds open: how
// serve stops it on Windows, and what a serve that died leaves it.
func TestScheduledJobStoppedBySIGTERMOrItsInputPausesForTheNextServe(t *testing.T) {
	for _, c := range []struct {
		name string
		stop func(*exec.Cmd, io.Closer)
	}{
		{"SIGTERM", func(cmd *exec.Cmd, _ io.Closer) { cmd.Process.Signal(syscall.SIGTERM) }},
		{"input closed", func(_ *exec.Cmd, in io.Closer) { in.Close() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			needSh(t)
			h := newOAuthHome(t)
			pausedForADay(t, h, "--per-day", "100", "--per-minute", "1")

			cmd, in, out, done := startScheduledResume(t, h)
			time.Sleep(500 * time.Millisecond)
			c.stop(cmd, in)
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatalf("the job did not stop\n%s", out)
			}
			if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "scheduler_stopped" {
				t.Fatalf("after the stop: %s (%s); want paused, stopped with the scheduler\n%s", status, cause, out)
			}
		})
	}
}

// nextServeFinishesQuietly lifts the per-minute limit and runs serve
// --once: delivery 1 must end done, each recipient with one message, and
// no alert raised (nobody had anything to do).
func nextServeFinishesQuietly(t *testing.T, h *oauthHome, alerts string) {
	t.Helper()
	mustRun(t, h.home, "account", "edit", "sales", "--per-minute", "600")
	mustRun(t, h.home, "serve", "--once", "--notify-cmd", "cat >> "+alerts)
	if status, cause := deliveryCause(t, h.home, 1); status != "done" {
		t.Fatalf("after the next serve: %s (%s), %d sent; want done", status, cause, len(h.smtp.Messages()))
	}
	eachOnce(t, h)
	if evs := readEvents(t, alerts); len(evs) != 0 {
		t.Fatalf("alerts: %+v; want none (nobody had anything to do)", evs)
	}
}
