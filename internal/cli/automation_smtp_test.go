package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// An alert e-mail leaves through another account, over real SMTP: here
// the delivery's OAuth account was never signed in.
func TestAlertEmailThroughAnotherAccount(t *testing.T) {
	home, srv := setupTestSend(t, account.AuthPlain, smtpsrv.Options{})
	t.Setenv(secrets.KeyringEnv, "off")
	auth, err := oauthsrv.New(oauthsrv.Options{Flavor: provider.Microsoft})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	ctx := context.Background()
	db, err := store.Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := secrets.Open(home)
	if err := (&credstore.Store{DB: db.DB, Secrets: sec}).Import(ctx, "corp", auth.Config(""), credstore.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	addAccount(t, home, "news", account.AuthXOAuth2)
	saveDelivery(t, home, "letter", "news", "email,name\na@example.com,A\n", "--notify-email", "ops@example.org", "--notify-account", "sales")
	r := runCLI(t, home, "", "run", "letter")
	if r.Code != exitcode.SignIn {
		t.Fatalf("exit %d, want 4\n%s", r.Code, r.Stderr)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "ops@example.org" || msgs[0].From != "sales@example.com" {
		t.Fatalf("messages %+v", msgs)
	}
	data := string(msgs[0].Data)
	if !strings.Contains(data, "Subject: [bluemoon] sign-in needed: account news") || !strings.Contains(data, "bluemoon login news") {
		t.Fatalf("alert mail:\n%s", data)
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
