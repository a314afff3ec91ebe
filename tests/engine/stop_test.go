//go:build unix

package engine

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
)

// startSlowSend starts `bluemoon send` of rows recipients against a server
// that answers each message a second after it reads it, and returns once
// the server has read two messages.
func startSlowSend(t *testing.T, rows int) (*exec.Cmd, *bytes.Buffer, *smtptest.Server, string) {
	t.Helper()
	srv, err := smtptest.Start(func(s *smtptest.Server) {
		s.Delay = time.Second
		s.Arrivals = true
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	home, dir := t.TempDir(), t.TempDir()
	mustRun(t, home, "account", "add", "news", "--from", "news@example.com", "--smtp", srv.Addr, "--security", "none", "--auth", "none", "--connections", "2")
	var list strings.Builder
	list.WriteString("email,name\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&list, "r%03d@example.com,Name %d\n", i, i)
	}
	lp := filepath.Join(dir, "list.csv")
	os.WriteFile(lp, []byte(list.String()), 0o600)
	body := filepath.Join(dir, "body.txt")
	os.WriteFile(body, []byte("Hello {{.name}}\n"), 0o600)
	cmd := exec.Command(binary(t), "--home", home, "send", "--account", "news", "--recipients", lp, "--subject", "Hi", "--text", body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	for deadline := time.Now().Add(30 * time.Second); srv.Count() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server got %d messages in 30 s\n%s", srv.Count(), out.String())
		}
	}
	return cmd, &out, srv, home
}

// Ctrl-C against a slow server: no message is begun after it (the server
// sees no MAIL command arrive later), the replies due are awaited a second
// at most, and `send` exits 5 within about two seconds although the
// server would take many more to answer what it holds. Nothing is left
// sending; what the server was still holding is unknown, within the
// bound.
func TestCtrlCStopsAtOnceAgainstASlowServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cmd, out, srv, home := startSlowSend(t, 100)
	signal := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(signal)
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 5 {
		t.Fatalf("exit %d (%v), want 5\n%s", code, err, out.String())
	}
	if n := srv.MailCommandsSince(signal); n != 0 {
		t.Errorf("%d message(s) begun after Ctrl-C", n)
	}
	// About StopGrace (1 s) plus the QUIT and the journal: asserted
	// generously, for a busy machine.
	if took > 5*time.Second {
		t.Errorf("send took %s to exit after Ctrl-C", took)
	}
	if !strings.Contains(out.String(), "deliveries resume 1") {
		t.Errorf("no word on how to go on:\n%s", out.String())
	}
	sending, status := journalState(t, home)
	if sending != 0 || status != "paused" {
		t.Errorf("after Ctrl-C: %d rows sending, status %s; want 0, paused", sending, status)
	}
	srv.WaitIdle(10 * time.Second)
	received := perRecipient(srv)
	unknown := 0
	for addr, st := range reportStates(t, home) {
		switch {
		case st == "sent" && received[addr] != 1:
			t.Errorf("%s sent, received %d times", addr, received[addr])
		case st == "pending" && received[addr] != 0:
			t.Errorf("%s pending, yet received", addr)
		case st == "unknown":
			unknown++
		}
	}
	if unknown > 2*16 {
		t.Errorf("%d unknown, over the bound of 32", unknown)
	}
	t.Logf("exit 5 %s after Ctrl-C; %d unknown", took.Round(time.Millisecond), unknown)
}

// A second Ctrl-C ends the process at once, leaving only the messages
// then with the server uncertain.
func TestSecondCtrlCQuitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cmd, out, _, home := startSlowSend(t, 100)
	cmd.Process.Signal(os.Interrupt)
	time.Sleep(100 * time.Millisecond)
	second := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	took := time.Since(second)
	st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !st.Signaled() || st.Signal() != syscall.SIGINT {
		t.Fatalf("not ended by the second Ctrl-C: %v\n%s", err, out.String())
	}
	if took > 3*time.Second {
		t.Errorf("the second Ctrl-C took %s", took)
	}
	if !strings.Contains(out.String(), "stopping (Ctrl-C again to quit at once)") {
		t.Errorf("the first Ctrl-C did not offer the quit the second one did\n%s", out.String())
	}
	if sending, _ := journalState(t, home); sending > 2*16 {
		t.Errorf("%d rows left sending, over the bound of 32", sending)
	}
	t.Logf("ended %s after the second Ctrl-C", took.Round(time.Millisecond))
}
