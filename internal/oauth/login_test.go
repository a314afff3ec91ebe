package oauth

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/redact"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

func newServer(t *testing.T, opts oauthsrv.Options) *oauthsrv.Server {
	t.Helper()
	s, err := oauthsrv.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t *testing.T, home string) *secrets.Store {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off")
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// loginRun is a sign-in running in the background, with what it printed.
type loginRun struct {
	url    string
	stderr *strings.Builder
	done   chan struct{}
	res    *LoginResult
	err    error
}

// startLogin starts a no-browser (or paste) sign-in and returns once it
// printed the authorization URL on stdout.
func startLogin(t *testing.T, ctx context.Context, opts LoginOptions) *loginRun {
	t.Helper()
	pr, pw := io.Pipe()
	run := &loginRun{stderr: &strings.Builder{}, done: make(chan struct{})}
	opts.Stdout, opts.Stderr = pw, run.stderr
	if opts.Mode == "" {
		opts.Mode = ModeNoBrowser
	}
	opts.OpenBrowser = func(string) error { t.Error("the browser was opened in a headless mode"); return nil }
	go func() {
		defer close(run.done)
		run.res, run.err = Login(ctx, opts)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		<-run.done
		t.Fatalf("no URL printed: %v (login error: %v)", err, run.err)
	}
	go io.Copy(io.Discard, pr)
	run.url = strings.TrimSpace(line)
	return run
}

func (r *loginRun) wait(t *testing.T) (*LoginResult, error) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("login did not return")
	}
	return r.res, r.err
}

func TestLoginLoopbackMicrosoft(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft, Email: "alice@contoso.example"})
	st := newStore(t, t.TempDir())
	ctx := context.Background()
	run := startLogin(t, ctx, LoginOptions{Account: "work", Config: srv.Config("contoso.example"), Store: st, Expected: "alice@contoso.example"})
	u, _ := url.Parse(run.url)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || len(q.Get("state")) < 20 {
		t.Fatalf("authorization URL lacks PKCE S256 or a random state: %s", run.url)
	}
	if !strings.HasPrefix(u.Path, "/contoso.example/oauth2/v2.0/authorize") {
		t.Fatalf("tenant not in path: %s", u.Path)
	}
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" {
		t.Fatalf("redirect_uri %q is not http://127.0.0.1:PORT", q.Get("redirect_uri"))
	}
	land, err := (&oauthsrv.Browser{}).SignIn(ctx, run.url)
	if err != nil {
		t.Fatal(err)
	}
	res, err := run.wait(t)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if land.Status != 200 || !strings.Contains(land.Body, "サインインしました") || !strings.Contains(land.Body, "You can close this tab") {
		t.Fatalf("landing page %d: %s", land.Status, land.Body)
	}
	if res.Identity != "alice@contoso.example" || res.Mismatch || !res.HasRefreshToken {
		t.Fatalf("result %+v", res)
	}
	tok, err := LoadToken(st, "work")
	if err != nil {
		t.Fatal(err)
	}
	if sub, _, err := srv.ValidateAccessToken(tok.AccessToken); err != nil || sub != "alice@contoso.example" {
		t.Fatalf("stored access token not valid: %v %q", err, sub)
	}
	// The listener served one request and closed.
	if _, err := net.DialTimeout("tcp", redirect.Host, time.Second); err == nil {
		t.Fatal("loopback listener still open after the sign-in")
	}
	if strings.Contains(run.stderr.String(), tok.AccessToken) || strings.Contains(run.stderr.String(), tok.RefreshToken) {
		t.Fatal("a token was printed")
	}
}

func TestLoginGoogleAsksOfflineAndWarnsOnOtherIdentity(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Google})
	st := newStore(t, t.TempDir())
	ctx := context.Background()
	run := startLogin(t, ctx, LoginOptions{Account: "g", Config: srv.Config(""), Store: st, Expected: "news@example.org"})
	q, _ := url.Parse(run.url)
	if q.Query().Get("access_type") != "offline" || q.Query().Get("prompt") != "consent" {
		t.Fatalf("Google URL lacks access_type=offline&prompt=consent: %s", run.url)
	}
	if _, err := (&oauthsrv.Browser{Email: "someone.else@example.org"}).SignIn(ctx, run.url); err != nil {
		t.Fatal(err)
	}
	res, err := run.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if res.Identity != "someone.else@example.org" || !res.Mismatch || !res.HasRefreshToken {
		t.Fatalf("result %+v", res)
	}
}

// A redirect with a wrong state (a forged link, another program guessing
// the port) gets an error page and a line on stderr, and stores nothing;
// the sign-in keeps waiting, so the real redirect still completes it.
func TestLoginRefusesTamperedStateAndKeepsWaiting(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Email: "alice@contoso.example"})
	st := newStore(t, t.TempDir())
	ctx := context.Background()
	run := startLogin(t, ctx, LoginOptions{Account: "a", Config: srv.Config(""), Store: st})
	b := &oauthsrv.Browser{Tamper: func(u *url.URL) {
		q := u.Query()
		q.Set("state", "forged-state")
		u.RawQuery = q.Encode()
	}}
	land, err := b.SignIn(ctx, run.url)
	if err != nil {
		t.Fatal(err)
	}
	if land.Status != 400 || !strings.Contains(land.Body, "偽装") {
		t.Fatalf("landing %d %s", land.Status, land.Body)
	}
	// A stranger straight at the listener, without even a code.
	u, _ := url.Parse(run.url)
	redirect := u.Query().Get("redirect_uri")
	resp, err := http.Get(redirect + "?state=guess&error=access_denied")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("stranger got %d", resp.StatusCode)
	}
	select {
	case <-run.done:
		t.Fatalf("a wrong state ended the sign-in: %v", run.err)
	default:
	}
	if _, err := LoadToken(st, "a"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("a token was stored after a refused redirect: %v", err)
	}
	// The person's own browser then finishes the sign-in.
	land, err = (&oauthsrv.Browser{}).SignIn(ctx, run.url)
	if err != nil {
		t.Fatal(err)
	}
	res, err := run.wait(t)
	if err != nil || res.Identity != "alice@contoso.example" || land.Status != 200 {
		t.Fatalf("the real redirect after forged ones: %v %+v (landing %d)", err, res, land.Status)
	}
	if n := strings.Count(run.stderr.String(), "wrong 'state'"); n != 2 {
		t.Errorf("stderr has %d notes of refused requests, want 2:\n%s", n, run.stderr)
	}
}

// Forged redirects alone never finish a sign-in: it ends at its own
// timeout, saying how many were refused.
func TestLoginWithOnlyForgedRedirectsTimesOut(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{})
	st := newStore(t, t.TempDir())
	run := startLogin(t, context.Background(), LoginOptions{Account: "a", Config: srv.Config(""), Store: st, Timeout: 2 * time.Second})
	u, _ := url.Parse(run.url)
	resp, err := http.Get(u.Query().Get("redirect_uri") + "?state=guess&code=stolen")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, err = run.wait(t)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want the sign-in's own timeout, got %v", err)
	}
	if !strings.Contains(err.Error(), "1 request(s) with a wrong 'state' were refused") {
		t.Errorf("the timeout does not say a request was refused: %v", err)
	}
	if !strings.Contains(run.stderr.String(), "refused a request to the sign-in address with a wrong 'state'") {
		t.Errorf("stderr: %s", run.stderr)
	}
}

func TestLoginRefusesTamperedPKCE(t *testing.T) {
	for _, flavor := range []provider.Kind{provider.Microsoft, provider.Google} {
		t.Run(string(flavor), func(t *testing.T) {
			srv := newServer(t, oauthsrv.Options{Flavor: flavor})
			st := newStore(t, t.TempDir())
			ctx := context.Background()
			run := startLogin(t, ctx, LoginOptions{Account: "a", Config: srv.Config(""), Store: st})
			// An attacker who swaps the challenge cannot redeem the code
			// with our verifier (and we cannot with theirs).
			u, _ := url.Parse(run.url)
			q := u.Query()
			q.Set("code_challenge", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			u.RawQuery = q.Encode()
			if _, err := (&oauthsrv.Browser{}).SignIn(ctx, u.String()); err != nil {
				t.Fatal(err)
			}
			_, err := run.wait(t)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "verifier") {
				t.Fatalf("want a code-verifier refusal, got %v", err)
			}
		})
	}
}

func TestLoginConsentRefused(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{})
	st := newStore(t, t.TempDir())
	ctx := context.Background()
	run := startLogin(t, ctx, LoginOptions{Account: "a", Config: srv.Config(""), Store: st})
	land, err := (&oauthsrv.Browser{Deny: true}).SignIn(ctx, run.url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.wait(t)
	var ad *AccessDeniedError
	if !errors.As(err, &ad) || ad.Code != "access_denied" || !strings.Contains(err.Error(), "consent was not given") {
		t.Fatalf("want access denied, got %v", err)
	}
	if !strings.Contains(land.Body, "同意が拒否されました") {
		t.Fatalf("landing: %s", land.Body)
	}
}

func TestLoginTimeoutAndCancel(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{})
	st := newStore(t, t.TempDir())
	run := startLogin(t, context.Background(), LoginOptions{Account: "a", Config: srv.Config(""), Store: st, Timeout: 200 * time.Millisecond})
	if _, err := run.wait(t); !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "--timeout") {
		t.Fatalf("want timeout, got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run = startLogin(t, ctx, LoginOptions{Account: "a", Config: srv.Config(""), Store: st})
	cancel()
	if _, err := run.wait(t); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("want cancelled, got %v", err)
	}
}

func TestLoginPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := newServer(t, oauthsrv.Options{})
	cfg := srv.Config("")
	cfg.RedirectURI = "http://" + ln.Addr().String()
	_, err = Login(context.Background(), LoginOptions{Account: "a", Config: cfg, Store: newStore(t, t.TempDir()), Mode: ModeNoBrowser})
	if err == nil || !strings.Contains(err.Error(), "another program is using port") {
		t.Fatalf("want port-in-use message, got %v", err)
	}
}

func TestLoginPaste(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Google})
	st := newStore(t, t.TempDir())
	ctx := context.Background()
	stdinR, stdinW := io.Pipe()
	run := startLogin(t, ctx, LoginOptions{Account: "g", Config: srv.Config(""), Store: st, Mode: ModePaste, Stdin: stdinR})
	// The browser is elsewhere: it ends on an address nothing answers.
	redirect, err := (&oauthsrv.Browser{}).Authorize(ctx, run.url)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdinW, redirect.String()+"\n")
	res, err := run.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if res.Identity != "user@example.com" {
		t.Fatalf("identity %q", res.Identity)
	}
}

func TestLoginDeviceMicrosoft(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Email: "dev@contoso.example"})
	st := newStore(t, t.TempDir())
	ctx := context.Background()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Login(ctx, LoginOptions{Account: "d", Config: srv.Config(""), Store: st, Mode: ModeDevice, Stdout: pw})
		pw.Close()
		done <- err
	}()
	r := bufio.NewReader(pr)
	verify, _ := r.ReadString('\n')
	code, _ := r.ReadString('\n')
	go io.Copy(io.Discard, r)
	if err := (&oauthsrv.Browser{}).DeviceLogin(ctx, strings.TrimSpace(verify), strings.TrimSpace(code)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tok, err := LoadToken(st, "d")
	if err != nil || tok.Identity != "dev@contoso.example" || tok.RefreshToken == "" {
		t.Fatalf("token %v, %v", tok, err)
	}
}

func TestLoginDeviceGoogleSaysUsePaste(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Google})
	_, err := Login(context.Background(), LoginOptions{Account: "g", Config: srv.Config(""), Store: newStore(t, t.TempDir()), Mode: ModeDevice})
	if err == nil || !strings.Contains(err.Error(), "--paste") {
		t.Fatalf("got %v", err)
	}
}

// slowTokenEndpoint holds back the token request until after a moment
// (the end of the sign-in's wait), as a slow network would.
type slowTokenEndpoint struct{ until time.Time }

func (s slowTokenEndpoint) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		time.Sleep(time.Until(s.until))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestLoginFinishedAtTheLastMomentIsSaved(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	st := newStore(t, t.TempDir())
	ctx := context.Background()
	const timeout = 2 * time.Second
	// The person finishes in time; the code's redemption then runs past
	// the wait's timeout. It must still be redeemed and saved.
	slow := slowTokenEndpoint{until: time.Now().Add(timeout + 500*time.Millisecond)}
	run := startLogin(t, ctx, LoginOptions{Account: "a", Config: srv.Config(""), Store: st, Timeout: timeout,
		HTTPClient: &http.Client{Transport: slow}})
	if _, err := (&oauthsrv.Browser{}).SignIn(ctx, run.url); err != nil {
		t.Fatal(err)
	}
	if _, err := run.wait(t); err != nil {
		t.Fatalf("login: %v", err)
	}
	tok, err := LoadToken(st, "a")
	if err != nil {
		t.Fatalf("the tokens were not saved: %v", err)
	}
	if _, _, err := srv.ValidateAccessToken(tok.AccessToken); err != nil {
		t.Fatal(err)
	}
}

// What --paste says when the pasted text is not the address comes through
// the redaction every error passes before it is printed as it was written:
// "?code=..." was printed "?code=[redacted]", as if the example were a secret.
func TestPasteMistakesSurviveRedaction(t *testing.T) {
	for _, pasted := range []string{"", "garbage", "http://127.0.0.1/?state=x"} {
		_, err := pastedQuery(pasted)
		if err == nil {
			t.Fatalf("%q accepted", pasted)
		}
		if got := redact.String(err.Error()); got != err.Error() || !strings.Contains(got, "code") {
			t.Errorf("%q: printed %q", pasted, got)
		}
	}
}
