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
	s := &served{cmd: cmd, errb: &testbin.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.errb, s.errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	return s
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
