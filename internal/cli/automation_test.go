package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

func needSh(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("notify command uses /bin/sh")
	}
}

// saveNews saves a delivery "news" from files in a temporary folder and
// returns that folder. It goes through account sales, made if missing
// (one that cannot send: for tests that never reach the server).
func saveNews(t *testing.T, home string, extra ...string) string {
	t.Helper()
	if r := runCLI(t, home, "", "account", "show", "sales"); r.Code != 0 {
		addAccount(t, home, "sales", account.AuthPlain)
	}
	return saveDelivery(t, home, "news", "sales", "email,name\na@example.com,A\n", extra...)
}

// saveDelivery saves delivery name through acct, to the list given.
func saveDelivery(t *testing.T, home, name, acct, list string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "list.csv"), []byte(list), 0o600)
	os.WriteFile(filepath.Join(dir, "body.txt"), []byte("Hello {{.name}}\n"), 0o600)
	args := append([]string{"deliveries", "save", name, "--account", acct,
		"--recipients", filepath.Join(dir, "list.csv"), "--subject", "News", "--text", filepath.Join(dir, "body.txt")}, extra...)
	mustRun(t, home, args...)
	return dir
}

// sendingNews is saveNews through an account sales that sends to a local
// SMTP server, which it returns.
func sendingNews(t *testing.T, home string, configure func(*smtptest.Server), limits provider.Limits, list string, extra ...string) *smtptest.Server {
	t.Helper()
	srv := startSMTP(t, configure)
	addTestAccount(t, home, "sales", srv, limits)
	saveDelivery(t, home, "news", "sales", list, extra...)
	return srv
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

func logText(t *testing.T, home string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(home, "logs", LogFileName))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
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

// Flags for send after "--" are checked when saved, not weeks later.
func TestSaveRefusesBadSendFlags(t *testing.T) {
	home := t.TempDir()
	dir := saveNews(t, home)
	r := runCLI(t, home, "", "deliveries", "save", "other", "--account", "sales", "--recipients", filepath.Join(dir, "list.csv"),
		"--subject", "s", "--text", filepath.Join(dir, "body.txt"), "--", "--no-such-flag")
	if r.Code != exitcode.Usage || !strings.Contains(r.Stderr, "no-such-flag") {
		t.Fatalf("bad send flag: exit %d, stderr %s", r.Code, r.Stderr)
	}
	if r := mustRun(t, home, "deliveries", "saved"); strings.Contains(r.Stdout, "other") {
		t.Fatalf("saved anyway:\n%s", r.Stdout)
	}
}

// A template that cannot work is refused when saved, as `send` refuses it,
// not when the timer runs it weeks later with nobody there to fix it: one
// that does not parse, one that names a column the list does not have.
func TestSaveRefusesABrokenTemplate(t *testing.T) {
	home := t.TempDir()
	dir := saveNews(t, home)
	list, body := filepath.Join(dir, "list.csv"), filepath.Join(dir, "body.txt")
	broken := writeTemp(t, dir, "broken.txt", "Hello {{.name}\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--subject", "{{.name", "--text", body}, "subject, line 1"},
		{[]string{"--subject", "{{.nmae}} 様", "--text", body}, "{{.nmae}} is not a column of the list"},
		{[]string{"--subject", "News", "--text", broken}, "text body, line 1"},
		{[]string{"--subject", "News", "--text", body, "--", "--attach-column", "invoice"}, `--attach-column "invoice" is not a column`},
	} {
		args := append([]string{"deliveries", "save", "other", "--account", "sales", "--recipients", list}, c.args...)
		r := runCLI(t, home, "", args...)
		if r.Code != exitcode.Usage || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("save %q: exit %d, stderr %s", c.args, r.Code, r.Stderr)
		}
	}
	if r := mustRun(t, home, "deliveries", "saved"); strings.Contains(r.Stdout, "other") {
		t.Fatalf("saved anyway:\n%s", r.Stdout)
	}
}

// A saved delivery runs exactly as `send` with its options would, from
// whatever folder cron starts in, and the run is logged.
func TestRunPassesSavedOptionsUnattended(t *testing.T) {
	home := t.TempDir()
	srv := sendingNews(t, home, nil, provider.Limits{Connections: 1}, "email,name\na@example.com,A\nb@example.com,B\n", "--", "--name", "monthly news")
	t.Chdir(t.TempDir()) // cron starts elsewhere: the saved paths must not depend on it
	r := mustRun(t, home, "run", "news")
	if srv.Count() != 2 || !strings.Contains(r.Stdout, "Delivery 1 done: 2 sent") {
		t.Fatalf("run: server got %d\n%s\n%s", srv.Count(), r.Stdout, r.Stderr)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(srv.Messages()[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Subject") != "News" {
		t.Errorf("subject %q", m.Header.Get("Subject"))
	}
	if l := mustRun(t, home, "deliveries", "list"); !strings.Contains(l.Stdout, "monthly news") {
		t.Errorf("the flags after -- were not applied:\n%s", l.Stdout)
	}
	if !strings.Contains(logText(t, home), "delivery done") {
		t.Fatalf("log file:\n%s", logText(t, home))
	}
}

func TestRunSignInNeededExits4AndAlerts(t *testing.T) {
	needSh(t)
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	tok := f.token(t)
	// The password was changed, and the access token has expired since.
	f.srv.RevokeUser(f.from)
	st, _ := secrets.Open(f.home)
	stale := f.token(t)
	stale.Expiry = time.Now().Add(-time.Minute)
	oauth.SaveToken(st, "work", stale)

	out := filepath.Join(t.TempDir(), "alert.json")
	saveDelivery(t, f.home, "news", "work", "email,name\na@example.com,A\n", "--notify-cmd", "cat >> "+out)
	r := runCLI(t, f.home, "", "run", "news", "--unattended")
	if r.Code != exitcode.SignIn {
		t.Fatalf("exit %d, want 4; stderr %s", r.Code, r.Stderr)
	}
	evs := readEvents(t, out)
	if len(evs) != 1 || evs[0].Kind != alert.SignInNeeded || evs[0].Account != "work" || evs[0].Delivery != "news" ||
		evs[0].ExitCode != 4 || !strings.Contains(evs[0].Message, "revoked") {
		t.Fatalf("events %+v", evs)
	}
	raw, _ := os.ReadFile(out)
	lt := logText(t, f.home)
	assertNoTokenText(t, []*oauth.Token{tok, stale}, string(raw), r.Stderr, lt)
	if !strings.Contains(lt, "kind=signin_needed") {
		t.Errorf("alert not in the log:\n%s", lt)
	}
}

// The log masks what looks like a credential, whatever a caller logs.
func TestLoggerMasksTokens(t *testing.T) {
	const fakeToken = "ya29.a0AfH6SMBfaketokenvalue"
	home := t.TempDir()
	app, out := newTestApp(home, "", false)
	app.Logger().Error("refresh failed", "err", fmt.Errorf("bearer %s refused", fakeToken), "access_token", "s3cr3t-value")
	app.Close()
	for what, text := range map[string]string{"stderr": out.String(), "log": logText(t, home)} {
		if strings.Contains(text, fakeToken) || strings.Contains(text, "s3cr3t-value") || !strings.Contains(text, "refresh failed") {
			t.Errorf("%s:\n%s", what, text)
		}
	}
}

func TestRunFailuresAndPauseAlertKinds(t *testing.T) {
	needSh(t)
	refuseA := func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			if rcpt == "a@example.com" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
			}
			return nil
		}
	}
	for _, c := range []struct {
		code      int
		kind      alert.Kind
		configure func(*smtptest.Server)
		limits    provider.Limits
	}{
		{exitcode.Failures, alert.DeliveryFailed, refuseA, provider.Limits{Connections: 1}},
		// One a day: the second recipient waits for tomorrow.
		{exitcode.Paused, alert.DeliveryPaused, nil, provider.Limits{Connections: 1, PerDay: 1}},
	} {
		home := t.TempDir()
		sendingNews(t, home, c.configure, c.limits, "email,name\na@example.com,A\nb@example.com,B\n")
		out := filepath.Join(t.TempDir(), "alert.json")
		r := runCLI(t, home, "", "run", "news", "--notify-cmd", "cat >> "+out)
		if r.Code != c.code || strings.Contains(r.Stderr, "bluemoon: delivery") {
			t.Fatalf("exit %d, want %d\n%s", r.Code, c.code, r.Stderr)
		}
		if evs := readEvents(t, out); len(evs) != 1 || evs[0].Kind != c.kind || !strings.Contains(evs[0].Message, "news") {
			t.Fatalf("code %d: events %+v, want %s", c.code, evs, c.kind)
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

// A schedule's name is the console's rule: letters (Japanese too), digits,
// '-' or '_'; the CLI refuses others saying so, and takes a Japanese one.
// A keep-alive of an account with '.' or '@' in its name is named without.
func TestScheduleNamesAreTheConsolesRule(t *testing.T) {
	home := t.TempDir()
	saveNews(t, home)
	for _, name := range []string{"<script>x", "news.weekly", "朝の配信!"} {
		r := runCLI(t, home, "", "schedule", "add", name, "--run", "news", "--cron", "@daily")
		if r.Code != exitcode.Usage || !strings.Contains(r.Stderr, "use 1-100 letters (Japanese too), digits, '-' or '_'") {
			t.Errorf("%q: exit %d, want 2 saying what a name may hold\n%s", name, r.Code, r.Stderr)
		}
	}
	mustRun(t, home, "schedule", "add", "朝の配信", "--run", "news", "--cron", "@daily")
	addAccount(t, home, "news.team", account.AuthNone)
	mustRun(t, home, "schedule", "keepalive", "news.team")
	if list := mustRun(t, home, "schedule", "list").Stdout; !strings.Contains(list, "朝の配信") || !strings.Contains(list, "keepalive-news-team") {
		t.Errorf("schedule list:\n%s", list)
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

func TestKeepaliveRefreshesSendsAndWarns(t *testing.T) {
	needSh(t)
	f := newOAuthFixture(t, provider.Google, "news@example.org", true)
	smtp := f.smtp(t)
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	// Signed in six days ago: an app left in Testing loses it tomorrow.
	st, _ := secrets.Open(f.home)
	tok := f.token(t)
	tok.ObtainedAt = time.Now().Add(-6 * 24 * time.Hour)
	oauth.SaveToken(st, "work", tok)
	out := filepath.Join(t.TempDir(), "alert.json")
	r := mustRun(t, f.home, "keepalive", "work", "--send-test", "--notify-cmd", "cat >> "+out)
	if f.srv.RefreshCount() != 1 || smtp.Accepted() != 1 || !strings.Contains(r.Stdout, "keep-alive done") {
		t.Fatalf("refreshed %d, sent %d, stdout %s", f.srv.RefreshCount(), smtp.Accepted(), r.Stdout)
	}
	if msgs := smtp.Messages(); msgs[0].To[0] != f.from || !strings.Contains(string(msgs[0].Data), "keep-alive") {
		t.Fatalf("test message %+v", msgs[0])
	}
	if evs := readEvents(t, out); len(evs) != 1 || evs[0].Kind != alert.TokenExpiring || !strings.Contains(evs[0].Message, "Testing") {
		t.Fatalf("events %+v", evs)
	}
}

func TestKeepaliveSignInNeeded(t *testing.T) {
	needSh(t)
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	smtp := f.smtp(t) // nobody ever signed in
	out := filepath.Join(t.TempDir(), "alert.json")
	mustRun(t, f.home, "schedule", "keepalive", "work", "--send-test", "--notify-cmd", "cat >> "+out)
	r := runCLI(t, f.home, "", "schedule", "run", "keepalive-work")
	if r.Code != exitcode.SignIn || smtp.Stats().Connections != 0 {
		t.Fatalf("exit %d (want 4), SMTP connections %d\n%s", r.Code, smtp.Stats().Connections, r.Stderr)
	}
	evs := readEvents(t, out)
	if len(evs) != 1 || evs[0].Kind != alert.SignInNeeded || evs[0].Schedule != "keepalive-work" || evs[0].Account != "work" {
		t.Fatalf("events %+v", evs)
	}
}

// useInProcessServe makes serve run its jobs in the test's process.
func useInProcessServe(t *testing.T) {
	old := newServeRunner
	newServeRunner = func(_ *App, svc *core.Service, fallback alert.Config) schedule.Runner {
		return core.JobRunner{Service: svc, Alert: fallback}
	}
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
	useInProcessServe(t)
	srv := sendingNews(t, home, nil, provider.Limits{Connections: 1}, "email,name\na@example.com,A\n")
	addOverdue(t, home, schedule.MissedRunOnce, "")
	r := mustRun(t, home, "serve", "--once")
	if n := srv.Count(); n != 1 {
		t.Fatalf("run-once: the server got %d messages; stderr %s", n, r.Stderr)
	}
	mustRun(t, home, "serve", "--once")
	if n := srv.Count(); n != 1 {
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
	useInProcessServe(t)
	srv := sendingNews(t, home, nil, provider.Limits{Connections: 1}, "email,name\na@example.com,A\n")
	out := filepath.Join(t.TempDir(), "alert.json")
	addOverdue(t, home, schedule.MissedSkip, "cat >> "+out)
	r := mustRun(t, home, "serve", "--once")
	if n := srv.Count(); n != 0 {
		t.Fatalf("skip: the server got %d messages", n)
	}
	if !strings.Contains(r.Stderr, "skipped") {
		t.Fatalf("skip not logged:\n%s", r.Stderr)
	}
	if evs := readEvents(t, out); len(evs) != 1 || evs[0].Kind != alert.RunMissed || evs[0].Schedule != "daily" {
		t.Fatalf("events %+v", evs)
	}
}

// A preflight is a dry run after one forced token refresh: the list, the
// template, the refresh token and the SMTP login are all tried, nothing
// is sent. A refresh that needs a person stops it before the SMTP login.
func TestScheduleRunPreflightIsDryRun(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	smtp := f.smtp(t)
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	saveDelivery(t, f.home, "news", "work", "email,name\na@example.com,A\n")
	mustRun(t, f.home, "schedule", "add", "m", "--run", "news", "--cron", "@monthly", "--tz", "UTC")
	r := mustRun(t, f.home, "schedule", "run", "m", "--preflight")
	if f.srv.RefreshCount() != 1 || smtp.Stats().AuthOK["XOAUTH2"] != 1 || smtp.Accepted() != 0 {
		t.Fatalf("preflight: %d refreshes, %d SMTP logins, %d accepted\n%s", f.srv.RefreshCount(), smtp.Stats().AuthOK["XOAUTH2"], smtp.Accepted(), r.Stderr)
	}
	if !strings.Contains(r.Stdout, "Dry run: nothing was sent. 1 recipient(s)") {
		t.Fatalf("stdout: %s", r.Stdout)
	}
	f.srv.RevokeUser(f.from)
	if r := runCLI(t, f.home, "", "schedule", "run", "m", "--preflight"); r.Code != exitcode.SignIn || smtp.Stats().Connections != 1 {
		t.Fatalf("exit %d, SMTP connections %d", r.Code, smtp.Stats().Connections)
	}
}

func TestInstallPrintsAllSetups(t *testing.T) {
	home := t.TempDir()
	r := mustRun(t, home, "schedule", "install", "--all", "--bin", "/usr/local/bin/bluemoon")
	for _, want := range []string{
		"* * * * * /usr/local/bin/bluemoon --home " + home + " serve --once",
		"ExecStart=/usr/local/bin/bluemoon --home " + home + " serve",
		"launchctl bootstrap gui/$(id -u) ",
		"<string>" + home + "</string>",
		`schtasks /Create /TN "bluemoon serve" /XML`,
		"<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("missing %q in:\n%s", want, r.Stdout)
		}
	}
}

// Without --all, install prints the set-up of the system it runs on only.
func TestInstallPrintsThisSystemsSetup(t *testing.T) {
	home := t.TempDir()
	r := mustRun(t, home, "schedule", "install", "--bin", "/usr/local/bin/bluemoon")
	has := map[string]bool{
		"linux":   strings.Contains(r.Stdout, "crontab -e") && strings.Contains(r.Stdout, "bluemoon.service"),
		"darwin":  strings.Contains(r.Stdout, "launchctl bootstrap"),
		"windows": strings.Contains(r.Stdout, "schtasks /Create"),
	}
	for goos, found := range has {
		if found != (goos == runtime.GOOS) {
			t.Errorf("on %s, the %s set-up printed: %v\n%s", runtime.GOOS, goos, found, r.Stdout)
		}
	}
	mac := mustRun(t, home, "schedule", "install", "--os", "darwin", "--keepalive", "sales", "--at", "06:15", "--bin", "/usr/local/bin/bluemoon")
	if !strings.Contains(mac.Stdout, "<key>Hour</key>\n    <integer>6</integer>") || strings.Contains(mac.Stdout, "schtasks") {
		t.Errorf("--os darwin:\n%s", mac.Stdout)
	}
	if r := runCLI(t, home, "", "schedule", "install", "--all", "--write"); r.Code != 2 {
		t.Errorf("--all --write: exit %d %s", r.Code, r.Stderr)
	}
}

func TestUnattendedStderrAlsoGoesToTheLogFile(t *testing.T) {
	home := t.TempDir()
	sendingNews(t, home, nil, provider.Limits{Connections: 1}, "email,name\na@example.com,A\n")
	r := mustRun(t, home, "run", "news", "--unattended")
	lt := logText(t, home)
	if !strings.Contains(r.Stderr, "Checked 1 row(s)") || !strings.Contains(lt, "Checked 1 row(s)") || !strings.Contains(lt, "signed in to") {
		t.Fatalf("the delivery's output is not in the log file:\n%s", lt)
	}
	if n := strings.Count(lt, "delivery done"); n != 1 {
		t.Fatalf("'delivery done' logged %d times:\n%s", n, lt)
	}
	for _, line := range strings.Split(strings.TrimSpace(lt), "\n") {
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", strings.Fields(line)[0]); err != nil {
			t.Fatalf("log line without a time stamp: %q", line)
		}
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

// A job that fails before it runs (no such saved delivery, no such
// account) says so once on stderr — not also as the job's log line and
// its alert's, which still go to the log file — with or without
// --unattended.
func TestRunSaysItsErrorOnce(t *testing.T) {
	for _, unattended := range []bool{false, true} {
		home := t.TempDir()
		for _, c := range []struct {
			args []string
			msg  string
		}{
			{[]string{"run", "nosuch"}, `saved delivery "nosuch": no such saved delivery`},
			{[]string{"keepalive", "nosuch"}, `account "nosuch": no such account`},
		} {
			args := c.args
			if unattended {
				args = append(args, "--unattended")
			}
			r := runCLI(t, home, "", args...)
			if r.Code != exitcode.Usage || strings.Count(r.Stderr, c.msg) != 1 || !strings.HasPrefix(r.Stderr, "bluemoon: "+c.msg) {
				t.Errorf("%v: exit %d, want 2 and the error once\n%s", args, r.Code, r.Stderr)
			}
		}
		lt := logText(t, home)
		for _, want := range []string{`msg="delivery did not succeed" delivery=nosuch`, `msg="keep-alive did not succeed" account=nosuch`,
			"msg=alert kind=delivery_failed", "msg=alert kind=keepalive_failed"} {
			if !strings.Contains(lt, want) {
				t.Errorf("unattended %v: the log lacks %q:\n%s", unattended, want, lt)
			}
		}
	}
}

// A saved delivery's name goes on a cron line as it is ('bluemoon run
// NAME'): a new one that would need quoting there (a ';' would run
// something else) is refused, naming the rule; Japanese letters are
// taken. One saved under an older, looser rule stays usable: replaced,
// shown and removed under its name.
func TestSavedDeliveryNamesNeedNoQuotingOnACronLine(t *testing.T) {
	home := t.TempDir()
	dir := saveNews(t, home)
	save := func(name string) result {
		return runCLI(t, home, "", "deliveries", "save", name, "--account", "sales", "--recipients", filepath.Join(dir, "list.csv"),
			"--subject", "News", "--text", filepath.Join(dir, "body.txt"))
	}
	for _, bad := range []string{"news;rm", "a.b", "$(id)", "CON"} {
		if r := save(bad); r.Code != exitcode.Usage || !strings.Contains(r.Stderr, "saved delivery name") {
			t.Errorf("save %q: exit %d (want 2)\n%s", bad, r.Code, r.Stderr)
		}
	}
	if r := mustRun(t, home, "deliveries", "saved"); strings.Contains(r.Stdout, "news;rm") || strings.Contains(r.Stdout, "a.b") {
		t.Fatalf("saved anyway:\n%s", r.Stdout)
	}
	if r := save("月次ニュース"); r.Code != 0 || !strings.Contains(r.Stdout, "bluemoon run 月次ニュース --unattended") {
		t.Fatalf("a Japanese name: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// As an earlier version saved it.
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	d, err := (&saved.Store{DB: db.DB}).Get(context.Background(), "news")
	if err != nil {
		t.Fatal(err)
	}
	d.Name = "old.news"
	if err := (&saved.Store{DB: db.DB}).Put(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if r := save("old.news"); r.Code != 0 {
		t.Fatalf("replacing a delivery saved under an older rule: exit %d\n%s", r.Code, r.Stderr)
	}
	mustRun(t, home, "deliveries", "saved", "show", "old.news")
	mustRun(t, home, "deliveries", "saved", "remove", "old.news")
}
