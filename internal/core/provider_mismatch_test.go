package core

import (
	"context"
	"errors"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// twoProviders is a service with a Google file "g" and a Microsoft 365
// file "m" imported.
func twoProviders(t *testing.T) *Service {
	t.Helper()
	svc := newService(t, Options{})
	cs, err := svc.credentials()
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]provider.Config{
		"g": {Provider: provider.Google, ClientID: "app.apps.example", ClientSecret: "secret"},
		"m": {Provider: provider.Microsoft, ClientID: "cid"},
	} {
		cfg, err := provider.FillDefaults(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.Import(context.Background(), name, cfg, credstore.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return svc
}

// wantMismatch fails unless err is the provider mismatch of a file for
// have where want was meant.
func wantMismatch(t *testing.T, what string, err error, have, want provider.Kind) *ProviderMismatchError {
	t.Helper()
	var pm *ProviderMismatchError
	if !errors.As(err, &pm) || pm.Have != have || pm.Want != want {
		t.Fatalf("%s: want the mismatch of a %s file where %s was meant, got %T %v", what, have, want, err, err)
	}
	return pm
}

// A file of the other provider is refused with the same specific error
// whichever way of sending is chosen: the provider-mismatch error comes
// before the way's own check (which could only say "that way needs a file
// of its provider").
func TestAnotherProvidersFileIsSaidSoForEveryWayOfSending(t *testing.T) {
	svc := twoProviders(t)
	ctx := context.Background()
	for _, tc := range []struct {
		creds, chosen, via string
		have, want         provider.Kind
	}{
		{"g", "microsoft", "smtp", provider.Google, provider.Microsoft},
		{"g", "microsoft", "graph", provider.Google, provider.Microsoft},
		{"m", "google", "smtp", provider.Microsoft, provider.Google},
		{"m", "google", "gmail-api", provider.Microsoft, provider.Google},
		// The CLI names no provider: the API way tells which one is meant.
		{"g", "", "graph", provider.Google, provider.Microsoft},
		{"m", "", "gmail-api", provider.Microsoft, provider.Google},
	} {
		in := AccountInput{From: Ptr("a@example.com"), Credentials: Ptr(tc.creds), Via: Ptr(tc.via)}
		if tc.chosen != "" {
			in.Provider = Ptr(tc.chosen)
		}
		what := tc.creds + " chosen as " + tc.chosen + " via " + tc.via
		pm := wantMismatch(t, what, errOf(svc.AddAccount(ctx, "x", in)), tc.have, tc.want)
		if pm.Server != "" {
			t.Errorf("%s: said as the server's mismatch (%s)", what, pm.Server)
		}
		if _, err := svc.Account(ctx, "x"); err == nil {
			t.Fatalf("%s: the account was saved", what)
		}
	}
	// An existing account's edit to the other provider's API is said the
	// same way, on the way's input.
	if _, err := svc.AddAccount(ctx, "work", AccountInput{From: Ptr("a@example.com"), Credentials: Ptr("m")}); err != nil {
		t.Fatal(err)
	}
	err := errOf(svc.EditAccount(ctx, "work", AccountInput{Via: Ptr("gmail-api")}))
	wantMismatch(t, "edit --via gmail-api", err, provider.Microsoft, provider.Google)
	wantField(t, err, "via")
}

// The server check knows each provider's documented submission servers,
// not only the presets', in any case and with a trailing dot; a server of
// no known provider is not checked.
func TestAnotherProvidersServerIsKnownByEveryDocumentedHost(t *testing.T) {
	svc := twoProviders(t)
	ctx := context.Background()
	for _, tc := range []struct {
		creds, host string
		have, want  provider.Kind
	}{
		{"g", "smtp-mail.outlook.com", provider.Google, provider.Microsoft},
		{"g", "SMTP-MAIL.Outlook.com.", provider.Google, provider.Microsoft},
		{"g", "smtp.office365.com.", provider.Google, provider.Microsoft},
		{"m", "smtp-relay.gmail.com", provider.Microsoft, provider.Google},
		{"m", "Smtp.Gmail.Com.", provider.Microsoft, provider.Google},
	} {
		in := AccountInput{From: Ptr("a@example.com"), Credentials: Ptr(tc.creds), SMTPHost: Ptr(tc.host), SMTPPort: Ptr(587)}
		pm := wantMismatch(t, tc.creds+" on "+tc.host, errOf(svc.AddAccount(ctx, "x", in)), tc.have, tc.want)
		if pm.Server != tc.host {
			t.Errorf("%s on %s: said as %q's", tc.creds, tc.host, pm.Server)
		}
		wantField(t, errOf(svc.AddAccount(ctx, "x", in)), "smtp_host")
	}
	// Its own provider's other servers, and servers of no known provider,
	// are taken.
	for i, tc := range []struct{ creds, host string }{
		{"m", "smtp-mail.outlook.com."}, {"g", "smtp-relay.gmail.com"}, {"g", "mail.example.com"}, {"m", "relay.contoso.example"},
	} {
		name := "ok" + string(rune('a'+i))
		if _, err := svc.AddAccount(ctx, name, AccountInput{From: Ptr("a@example.com"), Credentials: Ptr(tc.creds), SMTPHost: Ptr(tc.host), SMTPPort: Ptr(587)}); err != nil {
			t.Errorf("%s on %s: %v", tc.creds, tc.host, err)
		}
	}
}

// An import for an account that the account cannot use is refused before
// anything is stored; replacing credentials that another account uses is
// refused when that account cannot use the new file. A file it can use is
// imported and taken at once.
func TestImportForAnAccountIsCheckedBeforeAnythingIsStored(t *testing.T) {
	svc := twoProviders(t)
	ctx := context.Background()
	for _, a := range []struct{ name, host string }{{"work", "smtp.gmail.com"}, {"lab", "mail.example.com"}} {
		if _, err := svc.AddAccount(ctx, a.name, AccountInput{From: Ptr("a@example.com"), Credentials: Ptr("g"), SMTPHost: Ptr(a.host), SMTPPort: Ptr(465)}); err != nil {
			t.Fatal(err)
		}
	}
	ms, _, err := svc.CreateCredentialFile(ctx, CreateInput{Provider: "microsoft", ClientID: "cid2"})
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		for _, n := range []string{"work", "lab"} {
			if info, err := svc.Account(ctx, n); err != nil || info.Credentials != "g" {
				t.Fatalf("%s: account %s now uses %q (%v)", what, n, info.Credentials, err)
			}
		}
		if cr, err := svc.Credential(ctx, "g"); err != nil || cr.Provider != provider.Google {
			t.Fatalf("%s: g is now for %v (%v)", what, cr.Provider, err)
		}
		if _, err := svc.Credential(ctx, "m2"); err == nil {
			t.Fatalf("%s: the refused file was imported", what)
		}
	}
	_, _, err = svc.ImportCredentialFileFor(ctx, "work", ImportInput{Source: "m2.bmcred", Data: ms, Name: "m2"})
	wantMismatch(t, "a Microsoft file for work", err, provider.Microsoft, provider.Google)
	unchanged("a Microsoft file for work")
	_, _, err = svc.ImportCredentialFileFor(ctx, "work", ImportInput{Source: "m2.bmcred", Data: ms, Name: "g", Replace: true})
	wantMismatch(t, "a Microsoft file replacing work's", err, provider.Microsoft, provider.Google)
	unchanged("a Microsoft file replacing work's")
	// lab's server is no provider's, but work uses g too.
	_, _, err = svc.ImportCredentialFileFor(ctx, "lab", ImportInput{Source: "m2.bmcred", Data: ms, Name: "g", Replace: true})
	wantMismatch(t, "a Microsoft file replacing g for lab", err, provider.Microsoft, provider.Google)
	unchanged("a Microsoft file replacing g for lab")
	// The name taken, not to be replaced: refused as the plain import is.
	wantField(t, errOf3(svc.ImportCredentialFileFor(ctx, "lab", ImportInput{Source: "m2.bmcred", Data: ms, Name: "g"})), "name")
	unchanged("the name taken")

	res, ch, err := svc.ImportCredentialFileFor(ctx, "lab", ImportInput{Source: "m2.bmcred", Data: ms, Name: "m2"})
	if err != nil || res.Provider != provider.Microsoft || ch.Account.Credentials != "m2" {
		t.Fatalf("a Microsoft file for lab: %v %+v", err, res)
	}
	if info, _ := svc.Account(ctx, "lab"); info.Credentials != "m2" {
		t.Errorf("lab uses %q after the import", info.Credentials)
	}
}
