package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// oauthFixture is a data home with one OAuth account whose credentials
// point at a stand-in authorization server.
type oauthFixture struct {
	home string
	srv  *oauthsrv.Server
	from string
}

func newOAuthFixture(t *testing.T, flavor provider.Kind, from string, confirm bool) *oauthFixture {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off")
	srv, err := oauthsrv.New(oauthsrv.Options{Flavor: flavor, Email: from})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	home := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&credstore.Store{DB: db.DB, Secrets: st}).Import(ctx, "org", srv.Config(""), credstore.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	a := &account.Account{Name: "work", From: from, SMTPHost: "127.0.0.1", SMTPPort: 587, Security: account.SecurityStartTLS,
		Auth: account.AuthXOAuth2, Credentials: "org", ConfirmReauth: confirm}
	if err := (&account.Store{DB: db.DB}).Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	return &oauthFixture{home: home, srv: srv, from: from}
}

// cliRun is the CLI running in-process in the background, its stdout
// read line by line (the sign-in URL comes first).
type cliRun struct {
	lines  chan string
	stdout *bytes.Buffer
	stderr *testbin.Buffer
	done   chan int
}

func startCLI(t *testing.T, home string, args ...string) *cliRun {
	t.Helper()
	return startCLIWithStdin(t, home, strings.NewReader(""), args...)
}

func startCLIWithStdin(t *testing.T, home string, stdin io.Reader, args ...string) *cliRun {
	t.Helper()
	pr, pw := io.Pipe()
	r := &cliRun{lines: make(chan string, 16), stdout: &bytes.Buffer{}, stderr: &testbin.Buffer{}, done: make(chan int, 1)}
	app := &App{Stdin: stdin, Stdout: pw, Stderr: r.stderr, IsTerminal: func() bool { return false }}
	go func() {
		code := Run(context.Background(), app, append([]string{"--home", home}, args...))
		pw.Close()
		r.done <- code
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.stdout.WriteString(sc.Text() + "\n")
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	return r
}

func (r *cliRun) firstLine(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-r.lines:
		if !ok {
			t.Fatalf("the CLI printed nothing on stdout; stderr: %s", r.stderr)
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("no URL printed")
	}
	return ""
}

func (r *cliRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case c := <-r.done:
		for range r.lines {
		}
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("the CLI did not exit")
	}
	return -1
}

// login signs the fixture's account in through the real CLI and loopback
// listener, the test playing the browser.
func (f *oauthFixture) login(t *testing.T, b *oauthsrv.Browser) (*oauthsrv.Landing, *cliRun, int) {
	t.Helper()
	run := startCLI(t, f.home, "login", "work", "--no-browser", "--timeout", "30s")
	authURL := run.firstLine(t)
	if _, err := url.ParseRequestURI(authURL); err != nil || strings.ContainsAny(authURL, " \t") {
		t.Fatalf("stdout's first line is not the URL alone: %q", authURL)
	}
	land, err := b.SignIn(context.Background(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	return land, run, run.wait(t)
}

func (f *oauthFixture) token(t *testing.T) *oauth.Token {
	t.Helper()
	st, err := secrets.Open(f.home)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oauth.LoadToken(st, "work")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// assertNoTokenText fails if any token ever issued for the account shows
// up in what the tests captured.
func assertNoTokenText(t *testing.T, tokens []*oauth.Token, outputs ...string) {
	t.Helper()
	for _, tok := range tokens {
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
			if secret == "" {
				continue
			}
			for _, out := range outputs {
				if strings.Contains(out, secret) || strings.Contains(out, secret[len(secret)/2:]) {
					t.Fatalf("token text in output: %q", out)
				}
			}
		}
	}
}

func TestLoginFullSignInMicrosoft(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	land, run, code := f.login(t, &oauthsrv.Browser{})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, run.stderr)
	}
	if !strings.Contains(land.Body, "サインインしました") || !strings.Contains(land.Body, "You can close this tab") {
		t.Fatalf("landing page: %s", land.Body)
	}
	if !strings.Contains(run.stderr.String(), "Signed in account work as alice@contoso.example") {
		t.Fatalf("stderr: %s", run.stderr)
	}
	if strings.Count(run.stdout.String(), "\n") != 1 {
		t.Fatalf("stdout should hold the URL alone: %q", run.stdout)
	}
	tok := f.token(t)
	if sub, _, err := f.srv.ValidateAccessToken(tok.AccessToken); err != nil || sub != f.from {
		t.Fatalf("stored token: %v %s", err, sub)
	}
	if runtime.GOOS != "windows" {
		filepath.WalkDir(filepath.Join(f.home, "secrets"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".lock") {
				if fi, _ := d.Info(); fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
				}
			}
			return nil
		})
	}
	st := mustRun(t, f.home, "auth", "status", "work", "--json")
	var got []authStatus
	if err := json.Unmarshal([]byte(st.Stdout), &got); err != nil || len(got) != 1 {
		t.Fatalf("status JSON: %v %s", err, st.Stdout)
	}
	if got[0].Identity != f.from || got[0].Health != "ok" || !got[0].RefreshToken || got[0].AccessExpires == nil ||
		strings.Join(got[0].Scopes, " ") != "https://outlook.office.com/SMTP.Send" {
		t.Fatalf("status %+v", got[0])
	}
	human := mustRun(t, f.home, "auth", "status")
	if !strings.Contains(human.Stdout, "health          ok") {
		t.Fatalf("status: %s", human.Stdout)
	}
	assertNoTokenText(t, []*oauth.Token{tok}, run.stdout.String(), run.stderr.String(), st.Stdout, st.Stderr, human.Stdout, land.Body, land.RedirectURL)
}

func TestLoginWarnsWhenAnotherUserSignsIn(t *testing.T) {
	f := newOAuthFixture(t, provider.Google, "news@example.org", true)
	_, run, code := f.login(t, &oauthsrv.Browser{Email: "intern@example.org"})
	if code != 0 || !strings.Contains(run.stderr.String(), "warning: the account sends as news@example.org but intern@example.org signed in") {
		t.Fatalf("exit %d stderr %s", code, run.stderr)
	}
}

func TestLoginRefusals(t *testing.T) {
	cases := []struct {
		name    string
		browser *oauthsrv.Browser
		tamper  func(u *url.URL) // of the authorization URL
		want    string
	}{
		{"state", &oauthsrv.Browser{Tamper: func(u *url.URL) {
			q := u.Query()
			q.Set("state", "attacker")
			u.RawQuery = q.Encode()
		}}, nil, "wrong 'state'"}, // refused, and the sign-in waits on until its timeout
		{"pkce", &oauthsrv.Browser{}, func(u *url.URL) {
			q := u.Query()
			q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
			u.RawQuery = q.Encode()
		}, "Code_Verifier does not match"},
		{"consent", &oauthsrv.Browser{Deny: true}, nil, "consent was not given"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
			run := startCLI(t, f.home, "login", "work", "--no-browser", "--timeout", "3s")
			u, _ := url.Parse(run.firstLine(t))
			if c.tamper != nil {
				c.tamper(u)
			}
			land, err := c.browser.SignIn(context.Background(), u.String())
			if err != nil {
				t.Fatal(err)
			}
			if land.Status != 400 || !strings.Contains(land.Body, "サインインできませんでした") || !strings.Contains(land.Body, "Sign-in failed") {
				t.Fatalf("landing page %d: %s", land.Status, land.Body)
			}
			code := run.wait(t)
			if code == 0 || !strings.Contains(run.stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %s", code, run.stderr)
			}
			st, _ := secrets.Open(f.home)
			if _, err := oauth.LoadToken(st, "work"); !errors.Is(err, oauth.ErrNoToken) {
				t.Fatal("a refused sign-in stored tokens")
			}
		})
	}
}

func TestLoginTimeoutAndBadFlags(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	run := startCLI(t, f.home, "login", "work", "--no-browser", "--timeout", "100ms")
	run.firstLine(t)
	if code := run.wait(t); code != 1 || !strings.Contains(run.stderr.String(), "timed out after 100ms") {
		t.Fatalf("exit %d: %s", code, run.stderr)
	}
	r := runCLI(t, f.home, "", "login", "work", "--device", "--paste")
	if r.Code != 2 || !strings.Contains(r.Stderr, "alternatives") {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	r = runCLI(t, f.home, "", "login", "nobody")
	if r.Code != 2 || !strings.Contains(r.Stderr, "no such account") {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
}

func TestRotatedRefreshTokenSurvivesRestart(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	first := f.token(t)
	// Each runCLI is a new App with a new secrets store: a restart.
	r1 := mustRun(t, f.home, "auth", "status", "work", "--check")
	second := f.token(t)
	r2 := mustRun(t, f.home, "auth", "status", "work", "--check")
	third := f.token(t)
	if first.RefreshToken == second.RefreshToken || second.RefreshToken == third.RefreshToken {
		t.Fatal("the refresh token did not rotate")
	}
	if f.srv.RefreshCount() != 2 || f.srv.ActiveGrants(f.from) != 1 || third.Refreshes != 2 {
		t.Fatalf("refreshes %d grants %d", f.srv.RefreshCount(), f.srv.ActiveGrants(f.from))
	}
	if got := f.srv.LastRefreshScope(); got != provider.MicrosoftTokenScope {
		t.Fatalf("Microsoft refresh carried scope %q, want the token scope %q", got, provider.MicrosoftTokenScope)
	}
	assertNoTokenText(t, []*oauth.Token{first, second, third}, r1.Stdout, r1.Stderr, r2.Stdout, r2.Stderr)
}

// TestHelperProcess is not a test: the two-process test runs the CLI in
// child processes of this test binary.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("BLUEMOON_CLI_HELPER") != "1" {
		return // only the children of TestTwoProcessesRefreshAtOnce run the CLI here
	}
	args := strings.Split(os.Getenv("BLUEMOON_CLI_ARGS"), "\x1f")
	os.Exit(Run(context.Background(), &App{}, args))
}

func TestTwoProcessesRefreshAtOnce(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	before := f.token(t)
	f.srv.ExpireAccessTokens()
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range outs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), "BLUEMOON_CLI_HELPER=1", secrets.KeyringEnv+"=off",
			"BLUEMOON_CLI_ARGS="+strings.Join([]string{"--home", f.home, "auth", "status", "work", "--check"}, "\x1f"))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			outs[i], errs[i] = cmd.CombinedOutput()
		}(i)
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("process %d: %v\n%s", i, errs[i], outs[i])
		}
		if !strings.Contains(string(outs[i]), "health          ok") {
			t.Fatalf("process %d: %s", i, outs[i])
		}
	}
	after := f.token(t)
	if f.srv.ActiveGrants(f.from) != 1 {
		t.Fatal("the grant was revoked: the processes lost a rotated refresh token")
	}
	if _, _, err := f.srv.ValidateAccessToken(after.AccessToken); err != nil {
		t.Fatal(err)
	}
	if f.srv.RefreshCount() != 2 || after.Refreshes != 2 {
		t.Fatalf("refreshes: server %d, stored %d", f.srv.RefreshCount(), after.Refreshes)
	}
	assertNoTokenText(t, []*oauth.Token{before, after}, string(outs[0]), string(outs[1]))
}

// newTestApp is an App whose terminal-ness and stdin the test chooses.
func newTestApp(home, stdin string, terminal bool) (*App, *testbin.Buffer) {
	errb := &testbin.Buffer{}
	return &App{HomeFlag: home, Stdin: strings.NewReader(stdin), Stdout: errb, Stderr: errb,
		IsTerminal: func() bool { return terminal }}, errb
}

// service opens app's service (the test closes app).
func service(t *testing.T, app *App) *core.Service {
	t.Helper()
	svc, err := app.service(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// hookBrowser replaces the browser opener for one test.
func hookBrowser(t *testing.T, open func(string) error) {
	old := signinHooks.openBrowser
	signinHooks.openBrowser = open
	t.Cleanup(func() { signinHooks.openBrowser = old })
}

func TestExpiredAccessTokenRefreshedBeforeUse(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	// An hour passes: the stored access token has expired, here and at the server.
	st, _ := secrets.Open(f.home)
	old := f.token(t)
	old.Expiry = time.Now().Add(-time.Minute)
	oauth.SaveToken(st, "work", old)
	f.srv.Advance(61 * time.Minute)
	app, _ := newTestApp(f.home, "", false)
	defer app.Close()
	if err := service(t, app).CheckSignIn(context.Background(), "work", nil); err != nil {
		t.Fatal(err)
	}
	tok := f.token(t).AccessToken
	if tok == old.AccessToken || f.srv.RefreshCount() != 1 {
		t.Fatal("the expired token was not refreshed")
	}
	if _, _, err := f.srv.ValidateAccessToken(tok); err != nil {
		t.Fatalf("refreshed token refused: %v", err)
	}
}

func TestRevokedSignInUnattendedExits4WithoutBrowser(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	tok := f.token(t)
	f.srv.RevokeUser(f.from) // the password was changed
	var opened atomic.Int32
	hookBrowser(t, func(string) error { opened.Add(1); return nil })

	// While the access token lasts, the source hands it out; when the
	// server refuses it, the transport's forced refresh learns the truth.
	app, _ := newTestApp(f.home, "", false)
	if err := service(t, app).CheckSignIn(context.Background(), "work", nil); err != nil {
		t.Fatal(err)
	}
	if err := service(t, app).RefreshSignIn(context.Background(), "work", nil); exitcode.For(err) != 4 {
		t.Fatalf("forced refresh of a revoked grant: %v", err)
	}
	app.Close()
	// Later runs (the access token has expired by then) stop at once.
	st, _ := secrets.Open(f.home)
	stale := f.token(t)
	stale.Expiry = time.Now().Add(-time.Minute)
	stale.SignInNeeded = "" // as if the first run had not recorded the refusal
	oauth.SaveToken(st, "work", stale)
	for _, c := range []struct {
		name       string
		unattended bool
		terminal   bool
	}{{"flag", true, true}, {"no terminal", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			// If anything waited for a person, this deadline would turn the
			// ReauthError into a context error.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			app, out := newTestApp(f.home, "y\n", c.terminal)
			defer app.Close()
			err := service(t, app).CheckSignIn(ctx, "work", app.signInHandler(c.unattended))
			var re *oauth.ReauthError
			if !errors.As(err, &re) || exitcode.For(err) != 4 {
				t.Fatalf("want a sign-in error with exit code 4, got %v", err)
			}
			if !strings.Contains(err.Error(), "password") || !strings.Contains(err.Error(), "bluemoon login work") {
				t.Fatalf("message: %v", err)
			}
			if strings.Contains(out.String(), "Sign in again") {
				t.Fatal("asked a question while unattended")
			}
			assertNoTokenText(t, []*oauth.Token{tok}, err.Error(), out.String())
		})
	}
	r := runCLI(t, f.home, "", "auth", "status", "work", "--check")
	if r.Code != 4 || !strings.Contains(r.Stdout, "sign-in needed") {
		t.Fatalf("auth status --check: exit %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	if opened.Load() != 0 {
		t.Fatal("a browser was opened")
	}
	assertNoTokenText(t, []*oauth.Token{tok}, r.Stdout, r.Stderr)
}

func TestReauthAsksThenSignsIn(t *testing.T) {
	for _, c := range []struct {
		name    string
		confirm bool
		answer  string
		signIn  bool
	}{{"yes", true, "y\n", true}, {"enter", true, "\n", true}, {"no", true, "n\n", false}, {"confirm off", false, "", true}} {
		t.Run(c.name, func(t *testing.T) {
			f := newOAuthFixture(t, provider.Google, "news@example.org", c.confirm)
			f.srv.SetAutoApprove(true)
			if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
				t.Fatal(run.stderr)
			}
			f.srv.ExpireRefreshTokens() // the 7-day limit of an app in Testing
			f.token(t)
			var opened atomic.Int32
			var landing atomic.Value
			hookBrowser(t, func(u string) error {
				opened.Add(1)
				go func() {
					l, err := (&oauthsrv.Browser{}).SignIn(context.Background(), u)
					if err == nil {
						landing.Store(l.Body)
					}
				}()
				return nil
			})
			// Force the stored access token to be stale so a refresh is attempted.
			st, _ := secrets.Open(f.home)
			tok := f.token(t)
			tok.Expiry = time.Now()
			oauth.SaveToken(st, "work", tok)
			app, out := newTestApp(f.home, c.answer, true)
			defer app.Close()
			err := service(t, app).CheckSignIn(context.Background(), "work", app.signInHandler(false))
			if asked := strings.Contains(out.String(), "Sign in again now? [Y/n]"); asked != c.confirm {
				t.Fatalf("asked=%v: %s", asked, out)
			}
			if !strings.Contains(out.String(), "7 days") {
				t.Fatalf("the reason was not shown: %s", out)
			}
			if !c.signIn {
				if exitcode.For(err) != 4 || opened.Load() != 0 {
					t.Fatalf("declined: err %v, browser opened %d", err, opened.Load())
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			at := f.token(t).AccessToken
			if _, _, err := f.srv.ValidateAccessToken(at); err != nil || opened.Load() != 1 {
				t.Fatalf("after re-sign-in: %v, browser opened %d", err, opened.Load())
			}
		})
	}
}

func TestLogout(t *testing.T) {
	g := newOAuthFixture(t, provider.Google, "news@example.org", true)
	if _, run, code := g.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	tok := g.token(t)
	r := mustRun(t, g.home, "logout", "work")
	if !strings.Contains(r.Stdout, "The sign-in is revoked at the provider (google)") {
		t.Fatalf("google logout: %s", r.Stdout)
	}
	if _, _, err := g.srv.ValidateAccessToken(tok.AccessToken); err == nil {
		t.Fatal("Google still accepts the token after logout")
	}
	r = runCLI(t, g.home, "", "auth", "status", "work")
	if r.Code != 4 || !strings.Contains(r.Stdout, "nobody has signed in") {
		t.Fatalf("status after logout: %d %s", r.Code, r.Stdout)
	}

	m := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	if _, run, code := m.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	r = mustRun(t, m.home, "logout", "work")
	if !strings.Contains(r.Stdout, "Microsoft offers apps no way to revoke") || !strings.Contains(r.Stdout, "tokens are deleted") {
		t.Fatalf("microsoft logout: %s", r.Stdout)
	}
	assertNoTokenText(t, []*oauth.Token{tok}, r.Stdout, r.Stderr)
}

func TestLoginPasteGoogle(t *testing.T) {
	f := newOAuthFixture(t, provider.Google, "news@example.org", true)
	stdinR, stdinW := io.Pipe()
	run := startCLIWithStdin(t, f.home, stdinR, "login", "work", "--paste")
	authURL := run.firstLine(t)
	// The browser is on another computer: the redirect goes nowhere, the
	// person copies the address from the address bar.
	redirect, err := (&oauthsrv.Browser{}).Authorize(context.Background(), authURL)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdinW, "  "+redirect.String()+"\n")
	if code := run.wait(t); code != 0 || !strings.Contains(run.stderr.String(), "Signed in account work as news@example.org") {
		t.Fatalf("exit %d: %s", code, run.stderr)
	}
	if !strings.Contains(run.stderr.String(), "paste it here") {
		t.Fatalf("no instructions: %s", run.stderr)
	}
	assertNoTokenText(t, []*oauth.Token{f.token(t)}, run.stdout.String(), run.stderr.String())
}

func TestLoginDeviceMicrosoft(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	run := startCLI(t, f.home, "login", "work", "--device")
	verify := run.firstLine(t)
	code := run.firstLine(t)
	if err := (&oauthsrv.Browser{}).DeviceLogin(context.Background(), verify, code); err != nil {
		t.Fatal(err)
	}
	if c := run.wait(t); c != 0 || !strings.Contains(run.stderr.String(), "enter the code "+code) {
		t.Fatalf("exit %d: %s", c, run.stderr)
	}
	if f.token(t).Identity != f.from {
		t.Fatal("identity not learnt from the device sign-in")
	}
}

func TestLoginDeviceDeclined(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	run := startCLI(t, f.home, "login", "work", "--device")
	verify := run.firstLine(t)
	code := run.firstLine(t)
	if err := (&oauthsrv.Browser{Deny: true}).DeviceLogin(context.Background(), verify, code); err != nil {
		t.Fatal(err)
	}
	if c := run.wait(t); c != 1 || !strings.Contains(run.stderr.String(), "consent was not given") {
		t.Fatalf("exit %d: %s", c, run.stderr)
	}
}
