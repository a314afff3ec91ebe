package automatic

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// saveNews writes a three-row list and a body template and saves them as
// delivery "news" through account sales, alerts going to the returned file.
func saveNews(t *testing.T, home string, extra ...string) (alerts string) {
	t.Helper()
	dir := t.TempDir()
	list := "email,name\nalice@example.org,Alice\nbob@example.org,Bob\nsato@example.org,佐藤\n"
	if err := os.WriteFile(filepath.Join(dir, "list.csv"), []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "body.txt"), []byte("{{.name}} 様\nお知らせです。\n"), 0o600)
	alerts = filepath.Join(t.TempDir(), "alerts.json")
	args := append([]string{"deliveries", "save", "news", "--account", "sales", "--recipients", filepath.Join(dir, "list.csv"),
		"--subject", "{{.name}} 様へのお知らせ", "--text", filepath.Join(dir, "body.txt"), "--notify-cmd", "cat >> " + alerts}, extra...)
	mustRun(t, home, args...)
	return alerts
}

// A saved delivery runs from one line, through the engine and the real
// sign-in; once the sign-in is revoked the same line exits 4 and alerts.
func TestRunSavedDeliveryThenRevoked(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	alerts := saveNews(t, h.home)
	t.Chdir(t.TempDir()) // cron's working folder is not where the delivery was saved

	mustRun(t, h.home, "run", "news", "--unattended")
	if n := len(h.smtp.Messages()); n != 3 {
		t.Fatalf("%d messages delivered, want 3", n)
	}
	if evs := readEvents(t, alerts); len(evs) != 0 {
		t.Fatalf("alerts after a good run: %+v", evs)
	}

	h.auth.RevokeUser(mailbox)
	h.auth.ExpireAccessTokens()
	r := run(t, h.home, "run", "news", "--unattended")
	if r.Code != 4 {
		t.Fatalf("exit %d, want 4\n%s", r.Code, r.Stderr)
	}
	if n := len(h.smtp.Messages()); n != 3 {
		t.Fatalf("messages sent with a revoked sign-in: %d", n-3)
	}
	_, mark := env(t)
	if _, err := os.Stat(mark); !os.IsNotExist(err) {
		t.Fatal("a browser was opened")
	}
	evs := readEvents(t, alerts)
	if len(evs) != 1 || evs[0].Kind != alert.SignInNeeded || evs[0].Delivery != "news" || evs[0].Account != "sales" {
		t.Fatalf("alerts %+v", evs)
	}
	t.Logf("alert message: %s", evs[0].Message)
	if !strings.Contains(evs[0].Message, "sign") {
		t.Fatalf("the alert does not say why: %q", evs[0].Message)
	}
}

// The preflight of a schedule checks without sending; it finds a sign-in
// that is gone and raises the alert at once.
func TestPreflightSendsNothingAndCatchesRevokedSignIn(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	alerts := saveNews(t, h.home)
	mustRun(t, h.home, "schedule", "add", "monthly", "--run", "news", "--cron", "0 9 1 * *", "--tz", "Asia/Tokyo")

	mustRun(t, h.home, "schedule", "run", "monthly", "--preflight")
	if n := len(h.smtp.Messages()); n != 0 {
		t.Fatalf("the preflight sent %d messages", n)
	}
	if n := h.auth.RefreshCount(); n != 1 {
		t.Fatalf("the preflight refreshed %d times, want 1 (the refresh token is what it checks)", n)
	}

	// Revoked while the access token from sign-in is still valid: only a
	// refresh finds out.
	h.auth.RevokeUser(mailbox)
	r := run(t, h.home, "schedule", "run", "monthly", "--preflight", "--unattended")
	if r.Code != 4 {
		t.Fatalf("preflight with a revoked sign-in: exit %d\n%s", r.Code, r.Stderr)
	}
	evs := readEvents(t, alerts)
	if len(evs) != 1 || evs[0].Kind != alert.SignInNeeded || evs[0].Schedule != "monthly" {
		t.Fatalf("alerts %+v", evs)
	}
}

// A template that cannot render for a row fails the preflight (exit 2) and
// raises preflight_failed.
func TestPreflightCatchesABrokenTemplate(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	alerts := saveNews(t, h.home)
	mustRun(t, h.home, "schedule", "add", "monthly", "--run", "news", "--cron", "0 9 1 * *", "--tz", "UTC")
	// Someone edits the list and drops the name column.
	var list string
	withSaved(t, h.home, func(path string) { list = path })
	os.WriteFile(list, []byte("email\nalice@example.org\n"), 0o600)

	r := run(t, h.home, "schedule", "run", "monthly", "--preflight", "--unattended")
	if r.Code == 0 {
		t.Fatalf("preflight passed with a field missing\n%s", r.Stderr)
	}
	evs := readEvents(t, alerts)
	if len(evs) != 1 || evs[0].Kind != alert.PreflightFailed {
		t.Fatalf("alerts %+v", evs)
	}
	if n := len(h.smtp.Messages()); n != 0 {
		t.Fatalf("sent %d", n)
	}
}

// Two deliveries through one account never run at once: while another
// process holds the account (here the test itself), `run` waits, says so,
// sends nothing; it goes on when the account is free.
func TestRunWaitsForTheAccount(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a background process and polling of its output")
	}
	h := newOAuthHome(t)
	saveNews(t, h.home)
	unlock, err := schedule.LockAccount(context.Background(), h.home, "sales", nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "--home", h.home, "run", "news", "--unattended")
	cmd.Env, _ = env(t)
	errb := &testbin.Buffer{}
	cmd.Stdout, cmd.Stderr = errb, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, "run to say it waits", func() bool {
		return strings.Contains(errb.String(), "waiting: another delivery through this account is running")
	})
	if n := len(h.smtp.Messages()); n != 0 {
		t.Fatalf("%d messages sent while the account was busy", n)
	}
	unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, errb)
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("run did not go on after the account was freed\n%s", errb)
	}
	if n := len(h.smtp.Messages()); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
}
