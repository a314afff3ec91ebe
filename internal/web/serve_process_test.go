package web_test

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// A real `bluemoon serve` process beside the console on one home: the
// console says it runs and will not start a second scheduler; a schedule
// made in the console is run by that process (its job in a child process
// of its own), and the result shows on the console's page.
func TestConsoleBesideARealServeProcess(t *testing.T) {
	bin := testbin.Path(t)
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	saveNews(t, c.svc, "news", "relay", 2)
	s := c.session()

	var out testbin.Buffer
	cmd := exec.Command(bin, "--home", c.home, "serve", "--poll", "200ms")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		if runtime.GOOS == "windows" {
			cmd.Process.Kill()
		} else {
			cmd.Process.Signal(os.Interrupt)
		}
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(stop)
	waitFor(t, "bluemoon serve to start", func() bool {
		_, page := s.get("/schedules")
		return strings.Contains(page, "A scheduler (bluemoon serve) runs for this home")
	})
	if _, page, _ := s.post("/schedules/serve", nil, nil); !strings.Contains(page, "Another scheduler (bluemoon serve) runs for this home") {
		t.Fatalf("the console started a second scheduler:\n%s", page)
	}

	when := time.Now().Add(6 * time.Second).Truncate(time.Second) // ahead of a slow, shared machine's request
	if code, page, _ := s.post("/schedules/new", map[string]string{"name": "soon", "run": "news", "when": "once", "at": when.Format("2006-01-02T15:04:05"),
		"tz": "Local", "missed": "run-once", "preflight": "0"}, nil); code != 200 {
		t.Fatalf("create: %d\n%s", code, page)
	}
	waitFor(t, "the serve process to run it and the page to show the result", func() bool {
		_, page := s.get("/schedules")
		return strings.Contains(page, "Succeeded")
	})
	if n := len(ms.smtp.Messages()); n != 2 {
		t.Fatalf("the stand-in got %d messages, want 2\n%s", n, out.String())
	}
	stop()
	_, page := s.get("/schedules")
	if !strings.Contains(page, "Nothing runs these schedules now") {
		t.Fatalf("after serve stopped:\n%s", page)
	}
}
