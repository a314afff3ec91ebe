package cli

import (
	"context"
	"io"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
	"github.com/bluemoon-mail/bluemoon/internal/testsend"
)

const testPassword = "correct horse battery"

// setupTestSend starts the SMTP stand-in and stores account "sales" in a
// fresh home, the way 'account add' would.
func setupTestSend(t *testing.T, auth account.AuthMethod, opts smtpsrv.Options) (string, *smtpsrv.Server) {
	t.Helper()
	opts.Passwords = map[string]string{"sales@example.com": testPassword}
	srv, err := smtpsrv.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	home := t.TempDir()
	caFile, err := srv.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := &account.Account{Name: "sales", From: "sales@example.com", FromName: "営業部", SMTPHost: srv.Host(), SMTPPort: srv.Port(),
		Security: account.SecurityStartTLS, Auth: auth, CAFile: caFile}
	if auth == account.AuthXOAuth2 {
		a.Credentials = "corp"
	}
	if err := (&account.Store{DB: db.DB}).Put(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := core.SetPassword(st, "sales", testPassword); err != nil {
		t.Fatal(err)
	}
	return home, srv
}

func history(t *testing.T, home string) []testsend.Result {
	t.Helper()
	return historyOf(t, home, "sales")
}

func historyOf(t *testing.T, home, acct string) []testsend.Result {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := testsend.History(context.Background(), db.DB, acct, 10)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTestSendPlainAccountEndToEnd(t *testing.T) {
	srv, err := smtpsrv.Start(smtpsrv.Options{Passwords: map[string]string{"sales@example.com": testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	home := newHome(t)
	caFile, err := srv.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Set up the way a user does, with the account command.
	mustRun(t, home, "account", "add", "sales", "--from", "sales@example.com", "--from-name", "営業部",
		"--smtp", srv.Addr(), "--security", "starttls", "--auth", "plain",
		"--password-file", writeFile(t, "pw", testPassword+"\n"), "--ca-file", caFile)
	r := mustRun(t, home, "test-send", "sales", "--to", "me@example.org", "--subject", "設定の確認", "--charset", "iso-2022-jp")
	if !strings.HasPrefix(r.Stdout, "250 2.0.0") {
		t.Fatalf("stdout %q: want the server's final reply", r.Stdout)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].From != "sales@example.com" || msgs[0].To[0] != "me@example.org" || msgs[0].User != "sales@example.com" {
		t.Fatalf("server got %+v", msgs)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	dec := &mime.WordDecoder{CharsetReader: func(cs string, in io.Reader) (io.Reader, error) {
		return japanese.ISO2022JP.NewDecoder().Reader(in), nil
	}}
	if subj, _ := dec.DecodeHeader(m.Header.Get("Subject")); subj != "設定の確認" {
		t.Errorf("subject %q", subj)
	}
	if !strings.Contains(m.Header.Get("Content-Type"), "ISO-2022-JP") {
		t.Errorf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	h := history(t, home)
	if len(h) != 1 || !h[0].OK || h[0].To != "me@example.org" || !strings.HasPrefix(h[0].Reply, "250") {
		t.Fatalf("recorded %+v", h)
	}
}

func TestTestSendWrongPasswordExplainsAndRecords(t *testing.T) {
	home, srv := setupTestSend(t, account.AuthLogin, smtpsrv.Options{Flavor: smtpsrv.Microsoft})
	srv.SetSMTPAuthDisabled(true)
	r := runCLI(t, home, "", "test-send", "sales", "--to", "me@example.org")
	if r.Code != 2 { // a tenant setting must change: not a sign-in (4), not a retry (1)
		t.Fatalf("exit %d, want 2; stderr %s", r.Code, r.Stderr)
	}
	for _, want := range []string{"535 5.7.139", "administrator must enable authenticated SMTP"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr %q lacks %q", r.Stderr, want)
		}
	}
	if strings.Contains(r.Stderr+r.Stdout, testPassword) {
		t.Error("the password was printed")
	}
	h := history(t, home)
	if len(h) != 1 || h[0].OK || h[0].Class != "authentication" || !strings.Contains(h[0].Reply, "5.7.139") {
		t.Fatalf("recorded %+v", h)
	}
	// No password stored: a usage error naming how to set one.
	sec, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := sec.Delete(core.PasswordSecret("sales")); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, home, "", "test-send", "sales", "--to", "me@example.org"); r.Code != 2 || !strings.Contains(r.Stderr, "--password-file") {
		t.Errorf("no password: exit %d stderr %q", r.Code, r.Stderr)
	}
}

func TestTestSendBadInput(t *testing.T) {
	home, _ := setupTestSend(t, account.AuthPlain, smtpsrv.Options{})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"test-send", "sales"}, "--to"},
		{[]string{"test-send", "sales", "--to", "not an address"}, "--to"},
		{[]string{"test-send", "sales", "--to", "a@example.org", "--charset", "sjis"}, "--charset"},
		{[]string{"test-send", "nobody", "--to", "a@example.org"}, "nobody"},
		{[]string{"test-send", "sales", "--to", "a@example.org", "--charset", "iso-2022-jp", "--subject", "お祝い🎉"}, "Subject, character 4"},
	} {
		r := runCLI(t, home, "", c.args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v: exit %d stderr %q; want 2 naming %s", c.args, r.Code, r.Stderr, c.want)
		}
	}
}

// An OAuth account's test send: unattended before anyone signed in, it
// exits 4 without sending and records why; once signed in, it
// authenticates with XOAUTH2 with the token the server checks.
func TestTestSendXOAUTH2(t *testing.T) {
	f := newOAuthFixture(t, provider.Google, "news@example.org", true)
	smtp := f.smtp(t)
	r := runCLI(t, f.home, "", "test-send", "work", "--to", "me@example.org", "--unattended")
	if r.Code != 4 || !strings.Contains(r.Stderr, "bluemoon login work") {
		t.Fatalf("unattended: exit %d (want 4), stderr %q", r.Code, r.Stderr)
	}
	if smtp.Accepted() != 0 || smtp.Stats().Connections != 0 {
		t.Fatal("connected without a sign-in")
	}
	if h := historyOf(t, f.home, "work"); len(h) != 1 || h[0].Class != "sign-in" {
		t.Fatalf("recorded %+v", h)
	}
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	r = mustRun(t, f.home, "test-send", "work", "--to", "me@example.org")
	if !strings.HasPrefix(r.Stdout, "250") || smtp.Accepted() != 1 || smtp.Stats().AuthOK["XOAUTH2"] != 1 {
		t.Fatalf("stdout %q accepted %d stats %+v", r.Stdout, smtp.Accepted(), smtp.Stats())
	}
}
