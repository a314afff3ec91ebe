package cli

import (
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
)

// An alert e-mail leaves through another account, over real SMTP.
func TestAlertEmailThroughAnotherAccount(t *testing.T) {
	home, srv := setupTestSend(t, account.AuthPlain, smtpsrv.Options{})
	f := &fakeSend{err: signInErr{}}
	f.install(t)
	saveNews(t, home, "--notify-email", "ops@example.org", "--notify-account", "sales")
	r := runCLI(t, home, "", "run", "news")
	if r.Code != exitcode.SignIn {
		t.Fatalf("exit %d, want 4\n%s", r.Code, r.Stderr)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "ops@example.org" || msgs[0].From != "sales@example.com" {
		t.Fatalf("messages %+v", msgs)
	}
	data := string(msgs[0].Data)
	if !strings.Contains(data, "Subject: [bluemoon] sign-in needed: account sales") || !strings.Contains(data, "bluemoon login sales") {
		t.Fatalf("alert mail:\n%s", data)
	}
	if strings.Contains(data, fakeToken) {
		t.Fatalf("the token went out in the alert mail:\n%s", data)
	}
}

// keepalive --send-test on a password account sends to the account itself.
func TestKeepaliveSendTestToItself(t *testing.T) {
	home, srv := setupTestSend(t, account.AuthPlain, smtpsrv.Options{})
	mustRun(t, home, "keepalive", "sales", "--send-test")
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "sales@example.com" || !strings.Contains(string(msgs[0].Data), "keep-alive") {
		t.Fatalf("messages %+v", msgs)
	}
	if h := history(t, home); len(h) != 1 || !h[0].OK {
		t.Fatalf("test send not recorded: %+v", h)
	}
}
