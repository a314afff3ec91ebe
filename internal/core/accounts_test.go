package core

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

func TestAddAccountNamesTheFieldAtFault(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	base := func() AccountInput {
		return AccountInput{From: Ptr("news@example.com"), SMTPHost: Ptr("mail.example.com"), SMTPPort: Ptr(587), Auth: Ptr("none")}
	}
	for _, c := range []struct {
		field string
		code  string
		edit  func(*AccountInput)
	}{
		{"from", CodeRequired, func(in *AccountInput) { in.From = nil }},
		{"from", CodeInvalid, func(in *AccountInput) { in.From = Ptr("not an address") }},
		{"smtp_host", CodeRequired, func(in *AccountInput) { in.SMTPHost, in.SMTPPort = nil, nil }},
		{"smtp_host", CodeInvalid, func(in *AccountInput) { in.SMTPPort = Ptr(70000) }},
		{"security", CodeInvalid, func(in *AccountInput) { in.Security = Ptr("ssl") }},
		{"auth", CodeRequired, func(in *AccountInput) { in.Auth = nil }},
		{"auth", CodeInvalid, func(in *AccountInput) { in.Auth = Ptr("cram-md5") }},
		{"credentials", CodeNotFound, func(in *AccountInput) { in.Auth, in.Credentials = Ptr("xoauth2"), Ptr("nope") }},
		{"credentials", CodeInvalid, func(in *AccountInput) { in.Auth = Ptr("xoauth2") }},
		{"password", CodeRequired, func(in *AccountInput) { in.Auth = Ptr("plain") }},
		{"password", CodeNotUsed, func(in *AccountInput) { in.Password = Ptr("pw") }},
		{"per_day", CodeInvalid, func(in *AccountInput) { in.PerDay = Ptr(-1) }},
		{"client_key", CodeRequired, func(in *AccountInput) { in.ClientCert = Ptr("/some/cert.pem") }},
		{"ca_file", "unreadable", func(in *AccountInput) { in.CAFile = Ptr("/no/such/ca.pem") }},
	} {
		in := base()
		c.edit(&in)
		_, err := svc.AddAccount(ctx, "news", in)
		if fe := wantField(t, err, c.field); fe.Code != c.code {
			t.Errorf("%s: code %q, want %q (%v)", c.field, fe.Code, c.code, err)
		}
	}
	if list, _ := svc.Accounts(ctx); len(list) != 0 {
		t.Fatalf("a refused add saved %d account(s)", len(list))
	}
	wantField(t, errOf(svc.AddAccount(ctx, "bad name", base())), "name")

	// A good one, then the same name again.
	in := base()
	in.Auth, in.Password, in.Security = Ptr("plain"), Ptr("s3cret"), Ptr("none")
	ch, err := svc.AddAccount(ctx, "relay", in)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Warnings) != 1 || ch.Warnings[0].Code != "password_in_clear" {
		t.Fatalf("warnings %+v", ch.Warnings)
	}
	if fe := wantField(t, errOf(svc.AddAccount(ctx, "relay", base())), "name"); fe.Code != CodeExists {
		t.Fatalf("code %q", fe.Code)
	}
	info, err := svc.Account(ctx, "relay")
	if err != nil || !info.PasswordSet || info.Kind != AuthPassword || info.SignIn != nil || info.LastTestSend != nil {
		t.Fatalf("account %+v, %v", info, err)
	}
}

func errOf[T any](_ T, err error) error { return err }

func TestEditAccountChangesOnlyWhatIsGiven(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	if _, err := svc.AddAccount(ctx, "relay", AccountInput{From: Ptr("a@example.com"), SMTPHost: Ptr("mail.example.com"),
		SMTPPort: Ptr(465), Auth: Ptr("login"), Password: Ptr("pw"), PerDay: Ptr(500)}); err != nil {
		t.Fatal(err)
	}
	ch, err := svc.EditAccount(ctx, "relay", AccountInput{FromName: Ptr("Relay"), Connections: Ptr(1), ConfirmReauth: Ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	a := ch.Account
	if a.FromName != "Relay" || a.Limits.Connections != 1 || a.Limits.PerDay != 500 || a.ConfirmReauth ||
		a.Security != account.SecurityTLS || a.Auth != account.AuthLogin || a.From != "a@example.com" {
		t.Fatalf("after edit %+v", a)
	}
	// Leaving password auth drops the stored password.
	if _, err := svc.EditAccount(ctx, "relay", AccountInput{Auth: Ptr("none")}); err != nil {
		t.Fatal(err)
	}
	if info, _ := svc.Account(ctx, "relay"); info.PasswordSet || info.Kind != AuthNone {
		t.Fatalf("after --auth none: %+v", info)
	}
	wantNotFound(t, errOf(svc.EditAccount(ctx, "nobody", AccountInput{})), KindAccount)
	wantNotFound(t, svc.RemoveAccount(ctx, "nobody"), KindAccount)
	if err := svc.RemoveAccount(ctx, "relay"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Account(ctx, "relay")
	wantNotFound(t, err, KindAccount)
	if !strings.Contains(err.Error(), "no such account") || exitcode.For(err) != 2 || !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("error %v", err)
	}
}
