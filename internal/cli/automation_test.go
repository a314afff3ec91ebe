package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// fakeToken looks like a Google access token; it must never reach an alert or a log.
const fakeToken = "ya29.a0AfH6SMBfaketokenvalue"

type signInErr struct{}

func (signInErr) Error() string {
	return "account sales: sign-in needed: the refresh token was revoked (invalid_grant); bearer " + fakeToken
}
func (signInErr) NeedsSignIn() bool { return true }
func (signInErr) ExitCode() int     { return exitcode.SignIn }

// fakeSend replaces the delivery engine: it records each send command line
// and answers with err.
type fakeSend struct {
	mu    sync.Mutex
	calls [][]string
	err   error
}

func (f *fakeSend) install(t *testing.T) {
	old := sendRunner
	sendRunner = func(_ context.Context, _ *App, args []string) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, args)
		return f.err
	}
	t.Cleanup(func() { sendRunner = old })
}

func (f *fakeSend) all() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func needSh(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("notify command uses /bin/sh")
	}
}

// saveNews saves a delivery "news" through account sales from files in a
// temporary folder, and returns that folder.
func saveNews(t *testing.T, home string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "list.csv"), []byte("email,name\na@example.com,A\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "body.txt"), []byte("Hello {{.name}}\n"), 0o600)
	if r := runCLI(t, home, "", "account", "show", "sales"); r.Code != 0 {
		addAccount(t, home, "sales", account.AuthPlain)
	}
	args := append([]string{"deliveries", "save", "news", "--account", "sales",
		"--recipients", filepath.Join(dir, "list.csv"), "--subject", "News", "--text", filepath.Join(dir, "body.txt")}, extra...)
	mustRun(t, home, args...)
	return dir
}

func readEvents(t *testing.T, path string) []alert.Event {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the notify command did not run: %v", err)
	}
	var evs []alert.Event
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	for dec.More() {
		var ev alert.Event
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("notify stdin is not JSON: %v\n%s", err, raw)
		}
		evs = append(evs, ev)
	}
	return evs
}

func TestSaveListShowRemove(t *testing.T) {
	home := t.TempDir()
	dir := saveNews(t, home, "--charset", "iso-2022-jp", "--", "--name", "monthly news")
	r := mustRun(t, home, "deliveries", "saved", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil || len(list) != 1 || list[0]["account"] != "sales" {
		t.Fatalf("saved --json: %v\n%s", err, r.Stdout)
	}
	r = mustRun(t, home, "deliveries", "saved", "show", "news")
	if !strings.Contains(r.Stdout, "runs: bluemoon send --account sales --recipients "+filepath.Join(dir, "list.csv")) ||
		!strings.Contains(r.Stdout, "--charset iso-2022-jp --name 'monthly news'") {
		t.Fatalf("show:\n%s", r.Stdout)
	}
	mustRun(t, home, "deliveries", "saved", "remove", "news")
	if r := runCLI(t, home, "", "run", "news"); r.Code != exitcode.Usage || !strings.Contains(r.Stderr, "news") {
		t.Fatalf("run of a removed delivery: exit %d, %s", r.Code, r.Stderr)
	}
}

func TestSaveRefusesMissingFile(t *testing.T) {
	r := runCLI(t, t.TempDir(), "", "deliveries", "save", "x", "--account", "a", "--recipients", "/nonexistent/list.csv", "--subject", "s", "--text", "/nonexistent/b.txt")
	if r.Code != exitcode.Usage || !strings.Contains(r.Stderr, "--recipients") {
		t.Fatalf("exit %d, stderr %s", r.Code, r.Stderr)
	}
}

func TestRunPassesSavedOptionsUnattended(t *testing.T) {
	home := t.TempDir()
	f := &fakeSend{}
	f.install(t)
	dir := saveNews(t, home)
	t.Chdir(t.TempDir()) // cron starts elsewhere: the saved paths must not depend on it
	mustRun(t, home, "run", "news")
	calls := f.all()
	if len(calls) != 1 {
		t.Fatalf("send ran %d times", len(calls))
	}
	want := []string{"send", "--account", "sales", "--recipients", filepath.Join(dir, "list.csv"), "--subject", "News",
		"--text", filepath.Join(dir, "body.txt"), "--unattended"}
	if !slices.Equal(calls[0], want) {
		t.Fatalf("send args\n%q\nwant\n%q", calls[0], want)
	}
	logText, err := os.ReadFile(filepath.Join(home, "logs", LogFileName))
	if err != nil || !strings.Contains(string(logText), "delivery done") {
		t.Fatalf("log file: %v\n%s", err, logText)
	}
}

func TestRunSignInNeededExits4AndAlerts(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	f := &fakeSend{err: signInErr{}}
	f.install(t)
	out := filepath.Join(t.TempDir(), "alert.json")
	saveNews(t, home, "--notify-cmd", "cat >> "+out)
	r := runCLI(t, home, "", "run", "news", "--unattended")
	if r.Code != exitcode.SignIn {
		t.Fatalf("exit %d, want 4; stderr %s", r.Code, r.Stderr)
	}
	evs := readEvents(t, out)
	if len(evs) != 1 || evs[0].Kind != alert.SignInNeeded || evs[0].Account != "sales" || evs[0].Delivery != "news" ||
		evs[0].ExitCode != 4 || !strings.Contains(evs[0].Message, "revoked") {
		t.Fatalf("events %+v", evs)
	}
	raw, _ := os.ReadFile(out)
	logText, _ := os.ReadFile(filepath.Join(home, "logs", LogFileName))
	for what, text := range map[string]string{"alert": string(raw), "stderr": r.Stderr, "log": string(logText)} {
		if strings.Contains(text, fakeToken) {
			t.Errorf("the token reached the %s:\n%s", what, text)
		}
	}
	if !strings.Contains(string(logText), "kind=signin_needed") {
		t.Errorf("alert not in the log:\n%s", logText)
	}
}

func TestRunFailuresAndPauseAlertKinds(t *testing.T) {
	needSh(t)
	for code, kind := range map[int]alert.Kind{exitcode.Failures: alert.DeliveryFailed, exitcode.Paused: alert.DeliveryPaused} {
		home := t.TempDir()
		f := &fakeSend{err: exitWith(code)}
		f.install(t)
		out := filepath.Join(t.TempDir(), "alert.json")
		saveNews(t, home)
		r := runCLI(t, home, "", "run", "news", "--notify-cmd", "cat >> "+out)
		if r.Code != code {
			t.Fatalf("exit %d, want %d", r.Code, code)
		}
		if evs := readEvents(t, out); len(evs) != 1 || evs[0].Kind != kind {
			t.Fatalf("code %d: events %+v, want %s", code, evs, kind)
		}
	}
}

func TestScheduleAddListPauseResumeRemove(t *testing.T) {
	home := t.TempDir()
	saveNews(t, home)
	r := mustRun(t, home, "schedule", "add", "monthly", "--run", "news", "--cron", "0 9 1 * *", "--tz", "Asia/Tokyo")
	if !strings.Contains(r.Stdout, "09:00 JST") {
		t.Fatalf("add should show the next run in Tokyo time:\n%s", r.Stdout)
	}
	r = mustRun(t, home, "schedule", "list", "--json")
	var views []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &views); err != nil || len(views) != 1 {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	v := views[0]
	if v["tz"] != "Asia/Tokyo" || v["missed"] != "skip" || v["preflight"] != float64(24*time.Hour) || v["kind"] != "delivery" {
		t.Fatalf("defaults: %v", v)
	}
	mustRun(t, home, "schedule", "pause", "monthly")
	if r := mustRun(t, home, "schedule", "list"); !strings.Contains(r.Stdout, "paused") {
		t.Fatalf("list after pause:\n%s", r.Stdout)
	}
	mustRun(t, home, "schedule", "resume", "monthly")
	if r := runCLI(t, home, "", "schedule", "add", "monthly", "--run", "news", "--cron", "@daily"); r.Code != exitcode.Usage {
		t.Fatalf("duplicate name: exit %d", r.Code)
	}
	mustRun(t, home, "schedule", "remove", "monthly")
	if r := mustRun(t, home, "schedule", "list"); !strings.Contains(r.Stdout, "no schedules") {
		t.Fatalf("after remove:\n%s", r.Stdout)
	}
}

func TestScheduleAddRefusesBadInput(t *testing.T) {
	home := t.TempDir()
	saveNews(t, home)
	cases := map[string][]string{
		"--tz":             {"--run", "news", "--cron", "@daily", "--tz", "Tokyo/Nowhere"},
		"--cron":           {"--run", "news", "--cron", "0 25 * * *"},
		"--run":            {"--run", "nope", "--cron", "@daily"},
		"--at":             {"--run", "news", "--at", "2001-01-01 09:00"},
		"--missed":         {"--run", "news", "--cron", "@daily", "--missed", "maybe"},
		"--notify-account": {"--run", "news", "--cron", "@daily", "--notify-email", "ops@example.com"},
	}
	for flag, args := range cases {
		r := runCLI(t, home, "", append([]string{"schedule", "add", "x"}, args...)...)
		if r.Code != exitcode.Usage || !strings.Contains(r.Stderr, flag) {
			t.Errorf("%s: exit %d, stderr %q", flag, r.Code, r.Stderr)
		}
	}
}

func addAccount(t *testing.T, home, name string, auth account.AuthMethod) {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := &account.Account{Name: name, From: name + "@example.com", SMTPHost: "127.0.0.1", SMTPPort: 587,
		Security: account.SecurityStartTLS, Auth: auth}
	if auth == account.AuthXOAuth2 {
		a.Credentials = "corp"
	}
	if err := (&account.Store{DB: db.DB}).Put(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

func setHooks(t *testing.T, refresh func() error, age keepalive.TokenAge, sent *int) {
	oldR, oldA, oldS := refreshToken, tokenAge, sendTestMessage
	t.Cleanup(func() { refreshToken, tokenAge, sendTestMessage = oldR, oldA, oldS })
	refreshToken = func(_ context.Context, _ *App, _ *account.Account, unattended bool) error {
		if !unattended {
			return errors.New("keep-alive must run unattended here")
		}
		return refresh()
	}
	tokenAge = func(context.Context, *App, *account.Account) (keepalive.TokenAge, error) { return age, nil }
	sendTestMessage = func(context.Context, *App, *account.Account, bool) error { *sent++; return nil }
}

func TestKeepaliveRefreshesSendsAndWarns(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	addAccount(t, home, "sales", account.AuthXOAuth2)
	refreshed, sent := 0, 0
	now := time.Now()
	setHooks(t, func() error { refreshed++; return nil },
		keepalive.TokenAge{Provider: provider.Google, Obtained: now.Add(-6 * 24 * time.Hour), LastRefreshed: now}, &sent)
	out := filepath.Join(t.TempDir(), "alert.json")
	r := mustRun(t, home, "keepalive", "sales", "--send-test", "--notify-cmd", "cat >> "+out)
	if refreshed != 1 || sent != 1 || !strings.Contains(r.Stdout, "keep-alive done") {
		t.Fatalf("refreshed %d, sent %d, stdout %s", refreshed, sent, r.Stdout)
	}
	if evs := readEvents(t, out); len(evs) != 1 || evs[0].Kind != alert.TokenExpiring || !strings.Contains(evs[0].Message, "Testing") {
		t.Fatalf("events %+v", evs)
	}
}

func TestKeepaliveSignInNeeded(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	addAccount(t, home, "sales", account.AuthXOAuth2)
	sent := 0
	setHooks(t, func() error { return signInErr{} }, keepalive.TokenAge{}, &sent)
	out := filepath.Join(t.TempDir(), "alert.json")
	mustRun(t, home, "schedule", "keepalive", "sales", "--send-test", "--notify-cmd", "cat >> "+out)
	r := runCLI(t, home, "", "schedule", "run", "keepalive-sales")
	if r.Code != exitcode.SignIn || sent != 0 {
		t.Fatalf("exit %d (want 4), test messages %d", r.Code, sent)
	}
	evs := readEvents(t, out)
	if len(evs) != 1 || evs[0].Kind != alert.SignInNeeded || evs[0].Schedule != "keepalive-sales" || evs[0].Account != "sales" {
		t.Fatalf("events %+v", evs)
	}
}

// inProcess runs serve's jobs in the test process.
type inProcess struct{ app *App }

func (r inProcess) Run(ctx context.Context, j schedule.Job) schedule.Result {
	err := r.app.runJob(ctx, job{Schedule: j.Schedule.Name, Kind: j.Schedule.Kind, Target: j.Schedule.Target,
		SendTest: j.Schedule.SendTest, Preflight: j.Preflight, Alert: j.Schedule.Alert, Unattended: true})
	return schedule.Result{ExitCode: exitcode.For(err)}
}

func useInProcessServe(t *testing.T) {
	old := newServeRunner
	newServeRunner = func(app *App, _ string, _ alert.Config) schedule.Runner { return inProcess{app} }
	t.Cleanup(func() { newServeRunner = old })
}

// addOverdue stores a daily schedule created three days ago, as if serve
// had been down since. Its time of day is three hours before now, so the
// latest run is never within serve's start-up grace, whenever this runs.
func addOverdue(t *testing.T, home string, missed schedule.Missed, notify string) {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ago := time.Now().UTC().Add(-3 * time.Hour)
	s := &schedule.Schedule{Name: "daily", Kind: schedule.KindDelivery, Target: "news", Cron: fmt.Sprintf("%d %d * * *", ago.Minute(), ago.Hour()), TZ: "UTC",
		Missed: missed, Alert: alert.Config{Command: notify}, CreatedAt: time.Now().Add(-72 * time.Hour)}
	if err := (&schedule.Store{DB: db.DB}).Add(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func TestServeOnceMissedRunOnce(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	f := &fakeSend{}
	f.install(t)
	useInProcessServe(t)
	saveNews(t, home)
	addOverdue(t, home, schedule.MissedRunOnce, "")
	r := mustRun(t, home, "serve", "--once")
	if n := len(f.all()); n != 1 {
		t.Fatalf("run-once: send ran %d times; stderr %s", n, r.Stderr)
	}
	mustRun(t, home, "serve", "--once")
	if n := len(f.all()); n != 1 {
		t.Fatalf("the catch-up must happen once: %d", n)
	}
	if !strings.Contains(r.Stderr, "running it once now") {
		t.Fatalf("missed run not logged:\n%s", r.Stderr)
	}
	lr := mustRun(t, home, "schedule", "list", "--json")
	if !strings.Contains(lr.Stdout, `"last_exit": 0`) || !strings.Contains(lr.Stdout, `"last_run_at"`) {
		t.Fatalf("result not recorded:\n%s", lr.Stdout)
	}
}

func TestServeOnceMissedSkipAlerts(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	f := &fakeSend{}
	f.install(t)
	useInProcessServe(t)
	saveNews(t, home)
	out := filepath.Join(t.TempDir(), "alert.json")
	addOverdue(t, home, schedule.MissedSkip, "cat >> "+out)
	r := mustRun(t, home, "serve", "--once")
	if n := len(f.all()); n != 0 {
		t.Fatalf("skip: send ran %d times", n)
	}
	if !strings.Contains(r.Stderr, "skipped") {
		t.Fatalf("skip not logged:\n%s", r.Stderr)
	}
	if evs := readEvents(t, out); len(evs) != 1 || evs[0].Kind != alert.RunMissed || evs[0].Schedule != "daily" {
		t.Fatalf("events %+v", evs)
	}
}

func TestScheduleRunPreflightIsDryRun(t *testing.T) {
	home := t.TempDir()
	f := &fakeSend{}
	f.install(t)
	addAccount(t, home, "sales", account.AuthXOAuth2)
	refreshed, sent := 0, 0
	setHooks(t, func() error { refreshed++; return nil }, keepalive.TokenAge{}, &sent)
	saveNews(t, home)
	mustRun(t, home, "schedule", "add", "m", "--run", "news", "--cron", "@monthly", "--tz", "UTC")
	mustRun(t, home, "schedule", "run", "m", "--preflight")
	calls := f.all()
	if len(calls) != 1 || !slices.Contains(calls[0], "--dry-run") || !slices.Contains(calls[0], "--unattended") {
		t.Fatalf("preflight should be an unattended dry run: %q", calls)
	}
	if refreshed != 1 {
		t.Fatalf("the preflight should force one token refresh; got %d", refreshed)
	}
	// A refresh that needs a person stops the preflight before the dry run.
	setHooks(t, func() error { return signInErr{} }, keepalive.TokenAge{}, &sent)
	if r := runCLI(t, home, "", "schedule", "run", "m", "--preflight"); r.Code != exitcode.SignIn || len(f.all()) != 1 {
		t.Fatalf("exit %d, dry runs %d", r.Code, len(f.all()))
	}
}

func TestInstallPrintsAllSetups(t *testing.T) {
	home := t.TempDir()
	r := mustRun(t, home, "schedule", "install", "--bin", "/usr/local/bin/bluemoon")
	for _, want := range []string{
		"* * * * * /usr/local/bin/bluemoon --home " + home + " serve --once",
		"ExecStart=/usr/local/bin/bluemoon --home " + home + " serve",
		`schtasks /Create /TN "bluemoon serve" /XML`,
		"<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("missing %q in:\n%s", want, r.Stdout)
		}
	}
}

func TestUnattendedStderrAlsoGoesToTheLogFile(t *testing.T) {
	home := t.TempDir()
	saveNews(t, home)
	old := sendRunner
	sendRunner = func(_ context.Context, app *App, _ []string) error {
		app.Warnf("Delivery 7: 1 recipient(s) to send to.\n")
		return nil
	}
	t.Cleanup(func() { sendRunner = old })
	r := mustRun(t, home, "run", "news", "--unattended")
	raw, err := os.ReadFile(filepath.Join(home, "logs", LogFileName))
	if err != nil {
		t.Fatal(err)
	}
	logText := string(raw)
	if !strings.Contains(r.Stderr, "Delivery 7") || !strings.Contains(logText, "Delivery 7: 1 recipient(s)") {
		t.Fatalf("engine output not in the log file:\n%s", logText)
	}
	if n := strings.Count(logText, "delivery done"); n != 1 {
		t.Fatalf("'delivery done' logged %d times:\n%s", n, logText)
	}
	for _, line := range strings.Split(strings.TrimSpace(logText), "\n") {
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", strings.Fields(line)[0]); err != nil {
			t.Fatalf("log line without a time stamp: %q", line)
		}
	}
}

func TestTokenLifetimeCheckAlertsWithoutRefreshing(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	addAccount(t, home, "sales", account.AuthXOAuth2)
	addAccount(t, home, "fresh", account.AuthXOAuth2)
	addAccount(t, home, "relay", account.AuthNone)
	now := time.Now()
	old := tokenAge
	t.Cleanup(func() { tokenAge = old })
	tokenAge = func(_ context.Context, _ *App, a *account.Account) (keepalive.TokenAge, error) {
		if a.Name == "sales" { // 85 days without use at Microsoft
			return keepalive.TokenAge{Provider: provider.Microsoft, Obtained: now.Add(-200 * 24 * time.Hour), LastRefreshed: now.Add(-85 * 24 * time.Hour)}, nil
		}
		return keepalive.TokenAge{Provider: provider.Microsoft, Obtained: now.Add(-200 * 24 * time.Hour), LastRefreshed: now}, nil
	}
	out := filepath.Join(t.TempDir(), "alerts.json")
	app := &App{HomeFlag: home, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, IsTerminal: func() bool { return false }}
	defer app.Close()
	if n := app.checkTokenLifetimes(context.Background(), alert.Config{Command: "cat >> " + out}, now); n != 1 {
		t.Fatalf("%d warnings, want 1", n)
	}
	evs := readEvents(t, out)
	if len(evs) != 1 || evs[0].Kind != alert.TokenExpiring || evs[0].Account != "sales" || !strings.Contains(evs[0].Message, "90 days") {
		t.Fatalf("alerts %+v", evs)
	}
}

func TestInstallWriteSystemdUnits(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("--write writes systemd units on Linux")
	}
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	home := t.TempDir()
	r := mustRun(t, home, "schedule", "install", "--write", "--bin", "/usr/local/bin/bluemoon")
	unit, err := os.ReadFile(filepath.Join(cfg, "systemd", "user", "bluemoon.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/bluemoon --home "+home+" serve") ||
		!strings.Contains(r.Stdout, "systemctl --user daemon-reload && systemctl --user enable --now bluemoon.service") {
		t.Fatalf("unit:\n%s\nstdout:\n%s", unit, r.Stdout)
	}
	mustRun(t, home, "schedule", "install", "--write", "--bin", "/usr/local/bin/bluemoon", "--keepalive", "sales", "--at", "06:15")
	timer, err := os.ReadFile(filepath.Join(cfg, "systemd", "user", "bluemoon-keepalive-sales.timer"))
	if err != nil || !strings.Contains(string(timer), "OnCalendar=*-*-* 06:15:00") {
		t.Fatalf("timer: %v\n%s", err, timer)
	}
}
