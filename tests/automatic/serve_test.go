package automatic

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

type served struct {
	cmd  *exec.Cmd
	errb *testbin.Buffer
	done chan error
}

// startServe starts `bluemoon serve` with a short poll so new schedules are
// seen quickly.
func startServe(t *testing.T, home string, args ...string) *served {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("stops serve with SIGTERM")
	}
	cmd := exec.Command(binary(t), append([]string{"--home", home, "serve", "--poll", "200ms"}, args...)...)
	cmd.Env, _ = env(t)
	s := &served{cmd: cmd, errb: &testbin.Buffer{}}
	cmd.Stdout, cmd.Stderr = s.errb, s.errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = waitInBackground(t, cmd, func() { cmd.Process.Kill() })
	return s
}

// waitInBackground waits for cmd, started, in a goroutine: the channel it
// returns gets its end. One still running when the test ends (a test that
// failed first) is stopped with kill and waited for. The cleanup learns
// whether it ended from a channel the waiting goroutine closes, never
// from cmd.ProcessState, which that goroutine's Wait writes: read
// unsynchronised it raced with Wait when the job had ended, unread, by
// the time a failed test cleaned up.
func waitInBackground(t *testing.T, cmd *exec.Cmd, kill func()) chan error {
	t.Helper()
	done, ended := make(chan error, 1), make(chan struct{})
	go func() {
		done <- cmd.Wait()
		close(ended)
	}()
	t.Cleanup(func() {
		select {
		case <-ended:
		default:
			kill()
			<-ended
		}
	})
	return done
}

// stop sends SIGTERM and returns serve's exit code and output.
func (s *served) stop(t *testing.T) (int, string) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), s.errb.String()
		}
		return 0, s.errb.String()
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		t.Fatalf("serve did not stop on SIGTERM\n%s", s.errb.String())
	}
	return -1, ""
}

// waitFor polls cond until it holds; a minute is a hang, not slowness.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
