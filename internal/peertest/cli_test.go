package peertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
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

// cliAccount does the administrator's and the user's set-up with bluemoon's commands: a
// credential file for oidc-provider (generic provider), its import, and an account "sender" on
// Dovecot submission (STARTTLS, XOAUTH2, the test CA as the account's CA file).
func cliAccount(t *testing.T, p *peers, d discovery, home, user string) {
	t.Helper()
	cred := filepath.Join(t.TempDir(), "peer.bmcred")
	mustBM(t, home, "credentials", "create", "--provider", "generic", "--client-id", clientPublic,
		"--auth-endpoint", d.Authorization, "--token-endpoint", d.Token,
		"--auth-scope", mailScope, "--token-scope", mailScope,
		"--revoke-endpoint", d.Revocation, "--userinfo-endpoint", d.Userinfo, "--out", cred)
	mustBM(t, home, "credentials", "import", cred, "--name", "peer", "--accept-custom-endpoints")
	mustBM(t, home, "account", "add", "sender", "--from", user, "--from-name", "配信担当",
		"--credentials", "peer", "--smtp", p.Submission, "--security", "starttls", "--auth", "xoauth2",
		"--ca-file", p.CAFile)
}

// A personalised delivery from a recipient list, through the real peers: every good row's
// message reaches the sink with its own merged subject, a row whose address the downstream
// server refuses is recorded as failed with that server's reply, and the exit code says the
// delivery finished with failures.
func TestCLIDeliveryThroughRealPeers(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	home := t.TempDir()
	user := "cli-send-" + uniqueID() + "@bluemoon.test"
	cliAccount(t, p, d, home, user)
	bmLogin(t, home, "sender", user)

	dir := t.TempDir()
	run := uniqueID()
	var csv strings.Builder
	csv.WriteString("email,name\n")
	want := map[string]string{} // address -> subject
	for i := range 12 {
		addr := fmt.Sprintf("member%02d-%s@bluemoon.test", i, run)
		name := fmt.Sprintf("会員%02d", i)
		csv.WriteString(addr + "," + name + "\n")
		want[addr] = name + "様へのお知らせ " + run
	}
	refused := rejectPrefix + run + "@bluemoon.test"
	csv.WriteString(refused + ",届かない人\n")
	list := filepath.Join(dir, "list.csv")
	body := filepath.Join(dir, "body.txt")
	if err := os.WriteFile(list, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(body, []byte("{{.name}} 様\n\n本物のサーバーを通した配信です。\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errs := bm(t, home, "send", "--account", "sender", "--recipients", list,
		"--subject", "{{.name}}様へのお知らせ "+run, "--text", body, "--unattended", "--name", "peer-"+run)
	if code != exitcode.Failures {
		t.Fatalf("send: exit %d, want %d (finished with one failure)\nstdout: %s\nstderr: %s", code, exitcode.Failures, out, errs)
	}

	// Every good recipient got its own message, once.
	got := map[string]int{}
	sink.mu.Lock()
	for _, m := range sink.messages {
		if len(m.To) == 1 && strings.Contains(m.To[0], run) {
			if subj := decodeSubject(m.Data); subj == want[m.To[0]] {
				got[m.To[0]]++
			} else {
				t.Errorf("%s got subject %q, want %q", m.To[0], subj, want[m.To[0]])
			}
		}
	}
	sink.mu.Unlock()
	for addr := range want {
		if got[addr] != 1 {
			t.Errorf("%s received %d messages, want 1", addr, got[addr])
		}
	}

	// The report names the refused row with the server's reply.
	list2 := mustBM(t, home, "deliveries", "list", "--json")
	id := deliveryID(t, list2, "peer-"+run)
	report := mustBM(t, home, "deliveries", "report", id, "--csv")
	t.Logf("delivery report:\n%s", report)
	if !strings.Contains(report, refused) || !strings.Contains(report, "550") {
		t.Errorf("report does not show %s refused with 550:\n%s", refused, report)
	}
}

// deliveryID finds the id of the delivery called name in 'deliveries list --json'.
func deliveryID(t *testing.T, listJSON, name string) string {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal([]byte(listJSON), &rows); err != nil {
		var wrapped struct {
			Deliveries []map[string]any `json:"deliveries"`
		}
		if err2 := json.Unmarshal([]byte(listJSON), &wrapped); err2 != nil {
			t.Fatalf("deliveries list --json: %v: %s", err, listJSON)
		}
		rows = wrapped.Deliveries
	}
	for _, r := range rows {
		if r["name"] == name {
			return fmt.Sprint(r["id"])
		}
	}
	t.Fatalf("no delivery %q in %s", name, listJSON)
	return ""
}

// The admin guide's path end to end with the real peers: make and import a credential file for
// the OAuth server, add an account on Dovecot submission, test-send before signing in
// (unattended: exit 4), sign in with the browser, test-send (the server's reply printed, the
// message at the sink), then sign out (the grant revoked at the server) and test-send again.
func TestCLITestSendThroughRealPeers(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	home := t.TempDir()
	user := "cli-" + uniqueID() + "@bluemoon.test"

	cliAccount(t, p, d, home, user)

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

	// Sign out: bluemoon revokes the grant at oidc-provider (the credential file names its
	// revocation endpoint), so the old access token no longer opens Dovecot either.
	out = mustBM(t, home, "logout", "sender")
	if !strings.Contains(out, "revoked at the provider") {
		t.Errorf("logout printed %q, want it to say the sign-in is revoked at the provider", out)
	}
	tc := peerConfig(t, p.Submission, "starttls", "xoauth2")
	tc.Username, tc.Tokens = user, &fixedTokens{token: tok.AccessToken}
	_, err = dial(t, tc)
	authError(t, err)
	code, out, errs = bm(t, home, "test-send", "sender", "--to", "cli-rcpt@bluemoon.test", "--unattended")
	if code != exitcode.SignIn {
		t.Fatalf("test-send after logout: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitcode.SignIn, out, errs)
	}
}
