package automatic

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

const mailbox = "sales@contoso.example"

// oauthHome is a data home with account "sales" (XOAUTH2) whose credentials
// point at a Microsoft-like authorization stand-in and whose SMTP server
// checks each bearer token against it; the account is signed in through
// the real binary's loopback listener, the test playing the browser.
type oauthHome struct {
	home string
	auth *oauthsrv.Server
	smtp *smtpsrv.Server
	// signInGate, when set, holds each SMTP sign-in until it is closed (a
	// slow server).
	signInGate atomic.Pointer[chan struct{}]
	signInHeld atomic.Int32 // sign-ins the gate held
}

func newOAuthHome(t *testing.T) *oauthHome {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off") // the key file in the home, shared with the child processes
	auth, err := oauthsrv.New(oauthsrv.Options{Flavor: provider.Microsoft, Email: mailbox})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	h := &oauthHome{home: t.TempDir(), auth: auth}
	smtp, err := smtpsrv.Start(smtpsrv.Options{Flavor: smtpsrv.Microsoft, CheckToken: func(user, token string) error {
		if g := h.signInGate.Load(); g != nil {
			h.signInHeld.Add(1)
			<-*g
		}
		sub, _, err := auth.ValidateAccessToken(token)
		if err != nil {
			return err
		}
		if !strings.EqualFold(sub, user) {
			return fmt.Errorf("token of %s used for %s", sub, user)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	caFile, err := smtp.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h.smtp = smtp
	st, err := secrets.Open(h.home)
	if err != nil {
		t.Fatal(err)
	}
	withDB(t, h.home, func(db *store.DB) {
		ctx := context.Background()
		if err := (&credstore.Store{DB: db.DB, Secrets: st}).Import(ctx, "org", auth.Config(""), credstore.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		a := &account.Account{Name: "sales", From: mailbox, SMTPHost: smtp.Host(), SMTPPort: smtp.Port(),
			Security: account.SecurityStartTLS, Auth: account.AuthXOAuth2, Credentials: "org", CAFile: caFile, ConfirmReauth: true}
		if err := (&account.Store{DB: db.DB}).Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	})
	h.login(t)
	return h
}

// login runs `bluemoon login sales --no-browser` and plays the browser on
// the URL it prints.
func (h *oauthHome) login(t *testing.T) { loginBinary(t, h.home, "sales") }

// loginBinary runs `bluemoon login ACCOUNT --no-browser` in home and plays
// the browser on the URL it prints.
func loginBinary(t *testing.T, home, acct string) {
	t.Helper()
	cmd := exec.Command(binary(t), "--home", home, "login", acct, "--no-browser", "--timeout", "30s")
	cmd.Env, _ = env(t)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errb := &testbin.Buffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		cmd.Wait()
		t.Fatalf("login printed no URL\n%s", errb)
	}
	if _, err := (&oauthsrv.Browser{}).SignIn(context.Background(), strings.TrimSpace(sc.Text())); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login: %v\n%s", err, errb)
	}
}

func (h *oauthHome) token(t *testing.T) *oauth.Token {
	t.Helper()
	st, err := secrets.Open(h.home)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oauth.LoadToken(st, "sales")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func assertNoToken(t *testing.T, tok *oauth.Token, outputs map[string]string) {
	t.Helper()
	for what, out := range outputs {
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
			if secret != "" && strings.Contains(out, secret) {
				t.Errorf("a token appears in the %s", what)
			}
		}
	}
}

// The scenario: a scheduled run whose refresh token was revoked
// (the user's password changed) exits with code 4 at once — the command
// runs with a minute's limit and stdin open, so waiting for a person
// would fail the test — opens no browser, and fires the alert, which the
// notify command writes to a file. serve records the exit code.
func TestScheduledRunWithRevokedSignInExits4AndAlerts(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	tok := h.token(t)
	out := filepath.Join(t.TempDir(), "alerts.json")
	mustRun(t, h.home, "schedule", "keepalive", "sales", "--send-test", "--notify-cmd", "cat >> "+out)
	h.auth.RevokeUser(mailbox)

	_, browserMark := env(t)
	r := run(t, h.home, "schedule", "run", "keepalive-sales", "--unattended")
	if r.Code != 4 {
		t.Fatalf("exit %d, want 4\n%s", r.Code, r.Stderr)
	}
	t.Logf("exit 4 after %v", r.Took)
	if !strings.Contains(r.Stderr, "bluemoon login sales") {
		t.Errorf("stderr does not say what to do:\n%s", r.Stderr)
	}
	if _, err := os.Stat(browserMark); !os.IsNotExist(err) {
		t.Errorf("a browser was opened")
	}
	if n := len(h.smtp.Messages()); n != 0 {
		t.Errorf("%d messages sent with a revoked sign-in", n)
	}
	// The mark works: an interactive login, which does open a browser, leaves it.
	defer func() {
		if t.Failed() {
			return
		}
		run(t, h.home, "login", "sales", "--timeout", "1s")
		if _, err := os.Stat(browserMark); err != nil {
			t.Errorf("the browser stand-in did not notice an interactive login: %v", err)
		}
	}()
	evs := readEvents(t, out)
	if len(evs) != 1 || evs[0].Kind != alert.SignInNeeded || evs[0].Account != "sales" || evs[0].Schedule != "keepalive-sales" || evs[0].ExitCode != 4 {
		t.Fatalf("alerts %+v", evs)
	}
	raw, _ := os.ReadFile(out)
	logText, _ := os.ReadFile(filepath.Join(h.home, "logs", "bluemoon.log"))
	assertNoToken(t, tok, map[string]string{"alert": string(raw), "stderr": r.Stderr, "log": string(logText)})

	// The same through serve: the job is due, runs in a child process,
	// alerts again and is recorded with exit code 4.
	withDB(t, h.home, func(db *store.DB) {
		if _, err := (&schedule.Store{DB: db.DB}).Update(context.Background(), "keepalive-sales", func(s *schedule.Schedule) error {
			s.CreatedAt, s.LastDue = time.Now().Add(-48*time.Hour), time.Time{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	mustRun(t, h.home, "serve", "--once")
	if evs := readEvents(t, out); len(evs) != 2 || evs[1].Kind != alert.SignInNeeded {
		t.Fatalf("serve: alerts %+v", evs)
	}
	if list := mustRun(t, h.home, "schedule", "list", "--json").Stdout; !strings.Contains(list, `"last_exit": 4`) {
		t.Fatalf("serve did not record exit 4:\n%s", list)
	}
	if _, err := os.Stat(browserMark); !os.IsNotExist(err) {
		t.Errorf("a browser was opened")
	}
}

// Keep-alive refreshes the token and saves the refresh token Microsoft
// rotates: the second keep-alive, a new process, works only if the first
// saved it.
func TestKeepAliveSavesRotatedRefreshToken(t *testing.T) {
	h := newOAuthHome(t)
	before := h.token(t)
	mustRun(t, h.home, "keepalive", "sales", "--unattended")
	after := h.token(t)
	if after.RefreshToken == before.RefreshToken || after.RefreshToken == "" {
		t.Fatal("the rotated refresh token was not saved")
	}
	if !after.LastRefreshed.After(before.ObtainedAt.Add(-time.Second)) || h.auth.RefreshCount() != 1 {
		t.Fatalf("last refreshed %v, refreshes %d", after.LastRefreshed, h.auth.RefreshCount())
	}
	r := mustRun(t, h.home, "keepalive", "sales", "--unattended", "--send-test")
	if h.auth.RefreshCount() != 2 || h.auth.ActiveGrants(mailbox) != 1 {
		t.Fatalf("second keep-alive: refreshes %d, live grants %d", h.auth.RefreshCount(), h.auth.ActiveGrants(mailbox))
	}
	msgs := h.smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != mailbox {
		t.Fatalf("keep-alive test message: %+v", msgs)
	}
	assertNoToken(t, after, map[string]string{"stdout": r.Stdout, "stderr": r.Stderr})
}
