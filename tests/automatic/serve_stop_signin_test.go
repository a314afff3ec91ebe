package automatic

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// serve stopped while its resume of a delivery is refreshing the sign-in
// (the token endpoint slow to answer) — before anything is sent — leaves
// the delivery due for the next serve, and alerts nobody: nobody has
// anything to do, as when the stop comes while the resume waits for the
// account.
func TestServeStoppedWhileAResumeSignsInIsQuiet(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	mustRun(t, h.home, "account", "edit", "sales", "--per-day", "1")
	saveNews(t, h.home)
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	if r := run(t, h.home, "run", "news", "--unattended"); r.Code != 5 {
		t.Fatalf("first day: exit %d\n%s", r.Code, r.Stderr)
	}
	// The resume must refresh the access token, a day later.
	accessTokenExpired(t, h)
	dayPasses(t, h.home)
	// The token endpoint takes the connection and does not answer.
	port := h.auth.Port()
	h.auth.Close()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skipf("cannot take the token endpoint's port: %v", err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()

	s := startServe(t, h.home, "--notify-cmd", "cat >> "+alerts)
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(time.Minute):
		t.Fatal("the resume did not ask the token endpoint")
	}
	time.Sleep(300 * time.Millisecond)
	code, out := s.stop(t)
	if code != 0 {
		t.Fatalf("serve exit %d after SIGTERM\n%s", code, out)
	}
	if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "daily_limit" {
		t.Fatalf("after serve stopped: %s (%s); want still due (paused by the daily limit)\n%s", status, cause, out)
	}
	if evs := readEvents(t, alerts); len(evs) != 0 {
		t.Fatalf("alerts: %+v; want none (the next serve resumes it)\n%s", evs, out)
	}
}
