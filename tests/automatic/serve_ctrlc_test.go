//go:build unix

package automatic

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// Ctrl-C to `bluemoon serve` in a terminal reaches serve and its job
// alike (the terminal signals its whole foreground process group), and
// serve then asks its job to stop with a SIGINT of its own: the job must
// take the two as one stop, pausing the delivery cleanly for the next
// serve, not as "Ctrl-C again to quit at once" (which left the delivery
// interrupted for a person, its messages then with the server unknown).
func TestCtrlCToServeInATerminalPausesItsJobForTheNextServe(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	pausedForADay(t, h, "--per-day", "100", "--per-minute", "1")

	// serve as a terminal runs it: its own process group, its jobs in it.
	cmd := exec.Command(binary(t), "--home", h.home, "serve", "--poll", "200ms", "--notify-cmd", "cat >> "+alerts)
	cmd.Env, _ = env(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &testbin.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := waitInBackground(t, cmd, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	waitFor(t, "the job's first message", func() bool { return len(h.smtp.Messages()) == 2 })
	time.Sleep(500 * time.Millisecond) // it waits for the next minute now
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("serve did not stop on Ctrl-C\n%s", out)
	}
	if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "scheduler_stopped" {
		t.Fatalf("after Ctrl-C to serve: %s (%s); want paused, stopped with the scheduler\n%s", status, cause, out)
	}
	// serve's own offer to quit at once is true (its jobs stop as
	// asked all the same); its job's would not be.
	if n := strings.Count(out.String(), quitAtOnce); n != 1 {
		t.Errorf("%q %d times in serve's output; want once, serve's own\n%s", quitAtOnce, n, out)
	}
	if !strings.Contains(out.String(), stoppingWithTheScheduler) {
		t.Errorf("the job did not say it stops with the scheduler\n%s", out)
	}
	nextServeFinishesQuietly(t, h, alerts)
}

// The same at the job alone, the second SIGINT (serve's) once the job
// has taken the first (the terminal's): one stop, the delivery paused
// for the next serve.
func TestScheduledJobTakesTwoSIGINTsAsOneStop(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	pausedForADay(t, h, "--per-day", "100", "--per-minute", "1")

	cmd, _, out, done := startScheduledResume(t, h)
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	// The second once the job has taken the first, as serve's comes.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), stoppingWithTheScheduler); {
		if time.Now().After(deadline) {
			t.Fatalf("the job did not take SIGINT\n%s", out)
		}
		time.Sleep(100 * time.Microsecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("the job did not stop\n%s", out)
	}
	if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "scheduler_stopped" {
		t.Fatalf("after two SIGINTs: %s (%s); want paused, stopped with the scheduler\n%s", status, cause, out)
	}
	if strings.Contains(out.String(), quitAtOnce) {
		t.Errorf("the job offered to quit at once, which a second SIGINT does not do\n%s", out)
	}
}

// What the first Ctrl-C says: a command typed by hand offers a quit at
// once; a job serve started stops with the scheduler.
const (
	quitAtOnce               = "Ctrl-C again to quit at once"
	stoppingWithTheScheduler = "stopping with the scheduler (a delivery under way pauses; the next scheduler run goes on with it)"
)
