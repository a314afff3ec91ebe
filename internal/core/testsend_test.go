package core

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

func TestTestSendToTheSMTPStandIn(t *testing.T) {
	srv, err := smtpsrv.Start(smtpsrv.Options{Flavor: smtpsrv.Microsoft, Passwords: map[string]string{"sales@example.com": "right"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	caFile, err := srv.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := newService(t, Options{})
	ctx := context.Background()
	if _, err := svc.AddAccount(ctx, "sales", AccountInput{From: Ptr("sales@example.com"), SMTPHost: Ptr(srv.Host()), SMTPPort: Ptr(srv.Port()),
		Auth: Ptr("plain"), Password: Ptr("right"), CAFile: &caFile}); err != nil {
		t.Fatal(err)
	}
	wantField(t, errOf(svc.TestSend(ctx, TestSendInput{Account: "sales"})), "to")
	wantField(t, errOf(svc.TestSend(ctx, TestSendInput{Account: "sales", To: "Me <me@example.org>"})), "to")
	wantField(t, errOf(svc.TestSend(ctx, TestSendInput{Account: "sales", To: "me@example.org", Charset: "sjis"})), "charset")
	wantField(t, errOf(svc.TestSend(ctx, TestSendInput{Account: "sales", To: "me@example.org", Charset: "iso-2022-jp", Subject: "お祝い🎉"})), "subject")

	res, err := svc.TestSend(ctx, TestSendInput{Account: "sales", To: "me@example.org", Subject: "設定の確認", Charset: "iso-2022-jp"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reply.Code != 250 || !res.Record.OK || srv.Accepted() != 1 || srv.Messages()[0].To[0] != "me@example.org" {
		t.Fatalf("reply %v, record %+v, accepted %d", res.Reply, res.Record, srv.Accepted())
	}
	info, _ := svc.Account(ctx, "sales")
	if info.LastTestSend == nil || !info.LastTestSend.OK || info.LastTestSend.To != "me@example.org" {
		t.Fatalf("last test send %+v", info.LastTestSend)
	}

	// SMTP AUTH turned off for the tenant: a setting an admin changes
	// (exit 2), recorded with the server's words.
	srv.SetSMTPAuthDisabled(true)
	_, err = svc.TestSend(ctx, TestSendInput{Account: "sales", To: "me@example.org"})
	var te *transport.Error
	if !errors.As(err, &te) || exitcode.For(err) != exitcode.Usage || !strings.Contains(err.Error(), "5.7.139") {
		t.Fatalf("auth disabled: %v", err)
	}
	if info, _ := svc.Account(ctx, "sales"); info.LastTestSend.OK || info.LastTestSend.Class != "authentication" {
		t.Fatalf("recorded %+v", info.LastTestSend)
	}
}

// An OAuth account that needs a sign-in: without a handler the
// *ReauthError comes back (exit 4); a handler may sign the person in, and
// the test send goes on.
func TestTestSendAsksTheHandlerForASignIn(t *testing.T) {
	svc, auth := oauthService(t, provider.Microsoft, "alice@contoso.example")
	smtp, err := smtpsrv.Start(smtpsrv.Options{Flavor: smtpsrv.Microsoft, CheckToken: func(user, token string) error {
		_, _, err := auth.ValidateAccessToken(token)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	caFile, _ := smtp.WriteCAFile(t.TempDir())
	ctx := context.Background()
	if _, err := svc.EditAccount(ctx, "work", AccountInput{SMTPHost: Ptr(smtp.Host()), SMTPPort: Ptr(smtp.Port()), CAFile: &caFile}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.TestSend(ctx, TestSendInput{Account: "work", To: "me@example.org"})
	var re *ReauthError
	if !errors.As(err, &re) || exitcode.For(err) != exitcode.SignIn || smtp.Stats().Connections != 0 {
		t.Fatalf("want a ReauthError before connecting, got %v", err)
	}
	asked := 0
	handler := func(ctx context.Context, a *account.Account, err error) error {
		asked++
		sig, serr := svc.StartSignIn(ctx, a.Name, SignInOptions{Mode: SignInLink})
		if serr != nil {
			return serr
		}
		go (&oauthsrv.Browser{}).SignIn(ctx, sig.Prompt.URL)
		_, serr = sig.Wait(ctx)
		return serr
	}
	res, err := svc.TestSend(ctx, TestSendInput{Account: "work", To: "me@example.org", SignIn: handler})
	if err != nil || asked != 1 || res.Reply.Code != 250 || smtp.Stats().AuthOK["XOAUTH2"] != 1 {
		t.Fatalf("asked %d, %v %v", asked, res, err)
	}
}
