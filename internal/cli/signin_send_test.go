package cli

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// smtp starts an SMTP stand-in that accepts the fixture's OAuth tokens
// (checked against its authorization server) and points the fixture's
// account at it.
func (f *oauthFixture) smtp(t *testing.T) *smtpsrv.Server {
	t.Helper()
	flavor := smtpsrv.Microsoft
	if f.srv.Flavor() == provider.Google {
		flavor = smtpsrv.Gmail
	}
	smtp, err := smtpsrv.Start(smtpsrv.Options{Flavor: flavor, CheckToken: func(user, token string) error {
		sub, _, err := f.srv.ValidateAccessToken(token)
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
	ctx := context.Background()
	db, err := store.Open(ctx, f.home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	as := &account.Store{DB: db.DB}
	a, err := as.Get(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	a.SMTPHost, a.SMTPPort, a.CAFile = smtp.Host(), smtp.Port(), caFile
	if err := as.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
	return smtp
}

// TestTestSendUsesSignInAndStopsWith4WhenRevoked runs the whole chain:
// sign-in through the loopback listener, test-send authenticating with
// XOAUTH2 tokens the SMTP stand-in checks against the OAuth stand-in, and,
// once the user's grant is revoked, an unattended test-send that exits 4
// without opening a browser.
func TestTestSendUsesSignInAndStopsWith4WhenRevoked(t *testing.T) {
	f := newOAuthFixture(t, provider.Microsoft, "alice@contoso.example", true)
	smtp := f.smtp(t)
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	var opened atomic.Int32
	hookBrowser(t, func(string) error { opened.Add(1); return nil })
	r := runCLI(t, f.home, "", "test-send", "work", "--to", "bob@example.org", "--unattended")
	if r.Code != 0 || smtp.Accepted() != 1 {
		t.Fatalf("test-send: exit %d accepted %d\n%s%s", r.Code, smtp.Accepted(), r.Stdout, r.Stderr)
	}
	tok := f.token(t)

	// The user's password changes: the server refuses the access token
	// that looks valid here, the forced refresh is refused too.
	f.srv.RevokeUser(f.from)
	r = runCLI(t, f.home, "", "test-send", "work", "--to", "bob@example.org", "--unattended")
	if r.Code != 4 || !strings.Contains(r.Stderr, "password") || !strings.Contains(r.Stderr, "bluemoon login work") {
		t.Fatalf("revoked: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// The next run stops before connecting: the refusal was recorded.
	refreshes := f.srv.RefreshCount()
	r = runCLI(t, f.home, "", "test-send", "work", "--to", "bob@example.org", "--unattended")
	if r.Code != 4 || f.srv.RefreshCount() != refreshes {
		t.Fatalf("second run: exit %d\n%s", r.Code, r.Stderr)
	}
	if opened.Load() != 0 || smtp.Accepted() != 1 {
		t.Fatalf("browser opened %d times, %d messages accepted", opened.Load(), smtp.Accepted())
	}
	st, _ := secrets.Open(f.home)
	if stored, err := oauth.LoadToken(st, "work"); err != nil || stored.SignInNeeded == "" {
		t.Fatalf("the refusal was not recorded: %v", err)
	}
	assertNoTokenText(t, []*oauth.Token{tok}, r.Stdout, r.Stderr)

	// A new sign-in makes the account work again.
	if _, run, code := f.login(t, &oauthsrv.Browser{}); code != 0 {
		t.Fatal(run.stderr)
	}
	r = runCLI(t, f.home, "", "test-send", "work", "--to", "bob@example.org", "--unattended")
	if r.Code != 0 || smtp.Accepted() != 2 {
		t.Fatalf("after sign-in: exit %d\n%s", r.Code, r.Stderr)
	}
}
