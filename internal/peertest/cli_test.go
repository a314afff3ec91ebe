package peertest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/cli"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
)

// bm runs one bluemoon command in-process, as the binary would, with no terminal.
func bm(t *testing.T, home string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app := &cli.App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, IsTerminal: func() bool { return false }}
	code = cli.Run(ctx, app, append([]string{"--home", home}, args...))
	return code, out.String(), errb.String()
}

func mustBM(t *testing.T, home string, args ...string) string {
	t.Helper()
	code, out, errs := bm(t, home, args...)
	if code != 0 {
		t.Fatalf("bluemoon %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// bmLogin runs `bluemoon login ACCOUNT --no-browser`, which prints the sign-in address on
// stdout and waits; the test's browser opens it, signs in at oidc-provider and follows the
// redirect to bluemoon's loopback listener.
func bmLogin(t *testing.T, home, acct, user string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		app := &cli.App{Stdin: strings.NewReader(""), Stdout: pw, Stderr: &errb, IsTerminal: func() bool { return true }}
		done <- cli.Run(ctx, app, []string{"--home", home, "login", acct, "--no-browser", "--timeout", "1m"})
		pw.Close()
	}()
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatalf("bluemoon login printed no sign-in address (exit %d): %s", <-done, errb.String())
	}
	authURL := sc.Text()
	out.WriteString(authURL + "\n")
	if _, err := url.Parse(authURL); err != nil || !strings.HasPrefix(authURL, env.Issuer) {
		t.Fatalf("bluemoon login printed %q, want the oidc-provider sign-in address", authURL)
	}
	b := newBrowser(t, env.Issuer, user)
	back, err := b.authorize(ctx, authURL)
	if err != nil {
		t.Fatalf("browser at oidc-provider: %v", err)
	}
	status, page, err := b.visit(ctx, back)
	if err != nil || status != 200 {
		t.Fatalf("bluemoon's loopback page: HTTP %d, %v: %s", status, err, firstText(page))
	}
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	if code := <-done; code != 0 {
		t.Fatalf("bluemoon login: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// The admin guide's path end to end with the real peers: make and import a credential file for
// the OAuth server, add an account on Dovecot submission, test-send before signing in
// (unattended: exit 4), sign in with the browser, test-send (the server's reply printed, the
// message at the sink), then sign out and test-send again (exit 4).
func TestCLITestSendThroughRealPeers(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	home := t.TempDir()
	user := "cli-" + uniqueID() + "@bluemoon.test"
	cred := filepath.Join(t.TempDir(), "peer.bmcred")

	mustBM(t, home, "credentials", "create", "--provider", "generic", "--client-id", clientPublic,
		"--auth-endpoint", d.Authorization, "--token-endpoint", d.Token,
		"--auth-scope", mailScope, "--token-scope", mailScope, "--out", cred)
	mustBM(t, home, "credentials", "import", cred, "--name", "peer", "--accept-custom-endpoints")
	mustBM(t, home, "account", "add", "sender", "--from", user, "--from-name", "配信担当",
		"--credentials", "peer", "--smtp", p.Submission, "--security", "starttls", "--auth", "xoauth2",
		"--ca-file", p.CAFile)

	code, out, errs := bm(t, home, "test-send", "sender", "--to", "cli-rcpt@bluemoon.test", "--unattended")
	if code != exitcode.SignIn {
		t.Fatalf("test-send --unattended before any sign-in: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitcode.SignIn, out, errs)
	}

	loginOut, loginErr := bmLogin(t, home, "sender", user)

	subject := "CLI テスト送信 " + uniqueID()
	before := sink.count()
	out = mustBM(t, home, "test-send", "sender", "--to", "cli-rcpt@bluemoon.test", "--subject", subject, "--unattended")
	if !strings.Contains(out, "250 2.0.0") {
		t.Errorf("test-send printed %q, want Dovecot's final 250 2.0.0 reply", out)
	}
	if sink.count() <= before {
		t.Fatal("test-send said it sent, but nothing reached the sink behind Dovecot")
	}
	found := false
	sink.mu.Lock()
	for _, m := range sink.messages[before:] {
		found = found || strings.Contains(decodeSubject(m.Data), subject)
	}
	sink.mu.Unlock()
	if !found {
		t.Errorf("no relayed message has the subject %q", subject)
	}

	// No token ever appears in what bluemoon printed.
	st := openStore(t, home)
	tok, err := oauth.LoadToken(st, "sender")
	if err != nil {
		t.Fatal(err)
	}
	for _, printed := range []string{loginOut, loginErr, out} {
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
			if secret != "" && strings.Contains(printed, secret) {
				t.Fatalf("bluemoon printed a token: %q", printed)
			}
		}
	}

	// Sign out. A credential file made with 'credentials create' has no revocation endpoint
	// for a generic provider (the command has no flag for one), so bluemoon says it cannot
	// revoke and deletes the tokens here; should it revoke one day, the old access token must
	// no longer open Dovecot.
	out = mustBM(t, home, "logout", "sender")
	switch {
	case strings.Contains(out, "revoked at the provider"):
		tc := peerConfig(t, p.Submission, "starttls", "xoauth2")
		tc.Username, tc.Tokens = user, &fixedTokens{token: tok.AccessToken}
		_, err = dial(t, tc)
		authError(t, err)
	case !strings.Contains(out, "no way to revoke") || !strings.Contains(out, "tokens are deleted"):
		t.Errorf("logout printed %q: want it to say whether the sign-in was revoked and that the tokens are deleted", out)
	}
	code, out, errs = bm(t, home, "test-send", "sender", "--to", "cli-rcpt@bluemoon.test", "--unattended")
	if code != exitcode.SignIn {
		t.Fatalf("test-send after logout: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitcode.SignIn, out, errs)
	}
}
