package rehearsal

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
)

// start opens the sandbox home as `bluemoon sandbox` does.
func start(t *testing.T, home string) (*core.Service, *Rehearsal) {
	t.Helper()
	if err := Prepare(home); err != nil {
		t.Fatal(err)
	}
	svc, err := core.Open(context.Background(), core.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Start(context.Background(), svc, 0)
	if err != nil {
		svc.Close()
		t.Fatal(err)
	}
	return svc, r
}

// The first start makes three accounts pointing at the stand-ins; a mail
// sent through one lands in the mailbox; a restart keeps the home, the
// ports, the accounts, the mailbox and a sign-in (its token refreshes
// against the restarted stand-in); Reset wipes it all.
func TestRestartKeepsHomePortsAccountsAndSignIn(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "sandbox-home")
	svc, r := start(t, home)
	for _, want := range []string{"account google", "account microsoft", "account relay", "credentials sandbox-google", "credentials sandbox-microsoft"} {
		if !strings.Contains(strings.Join(r.Made, ","), want) {
			t.Errorf("the first start did not make %s (made %v)", want, r.Made)
		}
	}
	accts, err := svc.Accounts(ctx)
	if err != nil || len(accts) != 3 {
		t.Fatalf("accounts: %d %v", len(accts), err)
	}
	ports := []int{r.Google.SMTP.Port(), r.Microsoft.SMTP.Port(), r.Relay.Port(), r.Google.Ports().OAuth, r.Microsoft.Ports().API}

	// A test send through the relay arrives in the mailbox.
	if _, err := svc.TestSend(ctx, core.TestSendInput{Account: RelayAccount, To: "member@example.net", Subject: "リハーサル 1"}); err != nil {
		t.Fatal(err)
	}
	// The Microsoft account signs in through the stand-in's consent page.
	signIn(t, ctx, svc, MicrosoftAccount)
	r.Close()
	svc.Close()

	svc, r = start(t, home)
	defer func() { r.Close(); svc.Close() }()
	if len(r.Made) != 0 {
		t.Errorf("a restart made %v again", r.Made)
	}
	if got := []int{r.Google.SMTP.Port(), r.Microsoft.SMTP.Port(), r.Relay.Port(), r.Google.Ports().OAuth, r.Microsoft.Ports().API}; !slices.Equal(got, ports) {
		t.Errorf("ports after a restart: %v, before %v", got, ports)
	}
	page, total, err := r.Inbox.List(0, 10)
	if err != nil || total != 1 || page[0].Subject != "リハーサル 1" || page[0].Envelope.Server != "relay-smtp" {
		t.Fatalf("the mailbox after a restart: %d %+v %v", total, page, err)
	}
	// The sign-in made before the restart still sends: the access token
	// is refreshed (forced here) with the refresh token the stand-in
	// issued before.
	r.Microsoft.OAuth.ExpireAccessTokens()
	if err := svc.RefreshSignIn(ctx, MicrosoftAccount, nil); err != nil {
		t.Fatalf("refresh after a restart: %v", err)
	}
	if n := r.Microsoft.OAuth.RefreshCount(); n < 1 {
		t.Fatalf("the restarted stand-in refreshed %d times", n)
	}
	if _, err := svc.TestSend(ctx, core.TestSendInput{Account: MicrosoftAccount, To: "member@example.net", Subject: "再起動後"}); err != nil {
		t.Fatalf("test send after a restart: %v", err)
	}
	if _, total, _ := r.Inbox.List(0, 10); total != 2 {
		t.Fatalf("the mailbox holds %d, want 2", total)
	}
	r.Close()
	svc.Close()

	removed, err := Reset(home)
	if err != nil || !removed {
		t.Fatalf("reset: %v %v", removed, err)
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Fatalf("the home survived the reset: %v", err)
	}
	if removed, err := Reset(home); err != nil || removed {
		t.Fatalf("resetting nothing: %v %v", removed, err)
	}
}

// A folder holding another data home is neither used nor removed.
func TestRefusesAHomeThatIsNotASandbox(t *testing.T) {
	home := t.TempDir()
	svc, err := core.Open(context.Background(), core.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if err := Prepare(home); !errors.Is(err, ErrNotSandbox) {
		t.Fatalf("prepare on a real home: %v", err)
	}
	if _, err := Reset(home); !errors.Is(err, ErrNotSandbox) {
		t.Fatalf("reset of a real home: %v", err)
	}
	if _, err := os.Stat(home); err != nil {
		t.Fatal("the real home was removed")
	}
}

// Accounts sending through the mail API stand-ins (Gmail API, Graph
// sendMail) deliver into the same mailbox, marked with the API.
func TestMailAPIsDeliverIntoTheMailbox(t *testing.T) {
	ctx := context.Background()
	svc, r := start(t, filepath.Join(t.TempDir(), "sandbox-home"))
	defer func() { r.Close(); svc.Close() }()
	for _, c := range []struct{ account, via string }{{GoogleAccount, "gmail-api"}, {MicrosoftAccount, "graph"}} {
		if _, err := svc.EditAccount(ctx, c.account, core.AccountInput{Via: core.Ptr(c.via)}); err != nil {
			t.Fatal(err)
		}
		signIn(t, ctx, svc, c.account)
		if _, err := svc.TestSend(ctx, core.TestSendInput{Account: c.account, To: "member@example.net", Subject: "API " + c.via}); err != nil {
			t.Fatalf("%s: %v", c.via, err)
		}
		page, _, err := r.Inbox.List(0, 1)
		if err != nil || len(page) != 1 || page[0].Envelope.Server != c.via || page[0].Subject != "API "+c.via {
			t.Fatalf("%s: the mailbox's newest is %+v (%v)", c.via, page, err)
		}
	}
}

// signIn signs account in through the stand-in's consent page, as the
// person's browser would.
func signIn(t *testing.T, ctx context.Context, svc *core.Service, account string) {
	t.Helper()
	sig, err := svc.StartSignIn(ctx, account, core.SignInOptions{Mode: core.SignInLink})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&oauthsrv.Browser{}).SignIn(ctx, sig.Prompt.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := sig.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
