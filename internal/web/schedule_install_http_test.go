package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The schedules page writes the permanent set-up of bluemoon serve as
// `schedule install --write` does, and says what it wrote and the command
// left to type — also after a reload. The user's folders are a temporary
// one here: never the real systemd or launchd folder.
func TestScheduleInstallWriteOverHTTP(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		t.Skip("this system has only cron, whose table is the user's")
	}
	cfg, fakeHome := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg) // systemd user units
	t.Setenv("HOME", fakeHome)       // ~/Library/LaunchAgents
	c := startConsole(t)
	s := c.session()

	_, page := s.get("/schedules")
	if !strings.Contains(page, `action="/schedules/install"`) || strings.Contains(page, `id="install-result"`) {
		t.Fatalf("the set-up has no write button, or a result before any write:\n%s", page)
	}
	code, page, at := s.post("/schedules/install", nil, nil)
	if code != http.StatusOK || at != "/schedules" || !strings.Contains(page, `id="install-result"`) {
		t.Fatalf("write: %d at %s\n%s", code, at, page)
	}
	var want, next string
	switch runtime.GOOS {
	case "linux":
		want, next = filepath.Join(cfg, "systemd", "user", "bluemoon.service"), "systemctl --user daemon-reload &amp;&amp; systemctl --user enable --now bluemoon.service"
	case "darwin":
		want, next = filepath.Join(fakeHome, "Library", "LaunchAgents"), "launchctl"
	case "windows":
		want, next = filepath.Join(c.home, "bluemoon-task.xml"), "schtasks"
	}
	if !strings.Contains(page, "Wrote ") || !strings.Contains(page, want) || !strings.Contains(page, next) || !strings.Contains(page, "run this command in a terminal") {
		t.Fatalf("the page does not say what was written (%s) and what to run (%s):\n%s", want, next, page)
	}
	if runtime.GOOS == "linux" {
		unit, err := os.ReadFile(want)
		if err != nil || !strings.Contains(string(unit), "--home "+c.home+" serve") {
			t.Fatalf("unit: %v\n%s", err, unit)
		}
	}
	// A reload says it again; the plain page does not.
	if _, again := s.get("/schedules?installed=1"); !strings.Contains(again, want) {
		t.Fatal("a reload lost what was written")
	}
	if _, plain := s.get("/schedules"); strings.Contains(plain, `id="install-result"`) {
		t.Fatal("the result shows without being asked for")
	}
}

// A write that fails says so in the page's language, with the system's
// words: here the systemd folder cannot be made (a file stands there).
func TestScheduleInstallWriteFailsInWords(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the systemd folder is Linux's")
	}
	cfg := t.TempDir()
	if err := os.WriteFile(filepath.Join(cfg, "systemd"), []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_HOME", cfg)
	c := startConsole(t)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	_, page, _ := s.post("/schedules/install", nil, nil)
	if !strings.Contains(page, "設定を書き込めませんでした") || !strings.Contains(page, "not a directory") {
		t.Fatalf("failure:\n%s", page)
	}
}
