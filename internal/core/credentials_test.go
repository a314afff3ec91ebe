package core

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

const googleSecret = "GOCSPX-Zq8-never-show-me"

func TestCredentialDefaultsPerTenant(t *testing.T) {
	d, err := CredentialDefaults("microsoft", "contoso.onmicrosoft.com")
	if err != nil || d.TokenEndpoint != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token" {
		t.Fatalf("%+v %v", d, err)
	}
	wantField(t, errOf(CredentialDefaults("yahoo", "")), "provider")
	wantField(t, errOf(CredentialDefaults("microsoft", "not a tenant")), "tenant")
}

// An admin makes a file on one machine; a user inspects it (the signer's
// fingerprint before any decision), then imports it; the secret never
// comes back out, and the file works for a sign-in.
func TestCredentialFileRoundTrip(t *testing.T) {
	admin, user := newService(t, Options{}), newService(t, Options{})
	ctx := context.Background()

	for field, in := range map[string]CreateInput{
		"client_secret": {Provider: "google", ClientID: "id"},
		"client_id":     {Provider: "microsoft"},
		"provider":      {Provider: "yahoo", ClientID: "id"},
		"tenant":        {Provider: "microsoft", ClientID: "id", Tenant: "bad/tenant"},
	} {
		wantField(t, errOf3(admin.CreateCredentialFile(ctx, in)), field)
	}

	data, made, err := admin.CreateCredentialFile(ctx, CreateInput{Provider: "google", ClientID: "1234-abc.apps.googleusercontent.com",
		ClientSecret: googleSecret, Passphrase: "blue moon"})
	if err != nil {
		t.Fatal(err)
	}
	if !made.NewSigningKey || !made.Passphrase || !strings.HasPrefix(made.Signer, "SHA256:") || len(made.CustomEndpoints) != 0 {
		t.Fatalf("created %+v", made)
	}
	if bytes.Contains(data, []byte(googleSecret)) {
		t.Fatal("the file's bytes show the secret")
	}
	_, again, err := admin.CreateCredentialFile(ctx, CreateInput{Provider: "microsoft", ClientID: "x"})
	if err != nil || again.NewSigningKey || again.Signer != made.Signer {
		t.Fatalf("a second file must be signed by the same key: %+v %v", again, err)
	}

	info, err := user.InspectCredentialFile(ctx, "acme.bmcred", data, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Signer != made.Signer || !info.NeedsPassphrase || info.Decrypted {
		t.Fatalf("inspect without passphrase %+v", info)
	}
	if err := info.CheckTrust("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"); err == nil {
		t.Fatal("a wrong --trust was accepted")
	} else {
		wantField(t, err, "trust")
	}
	if err := info.CheckTrust(made.Signer); err != nil {
		t.Fatal(err)
	}
	wantField(t, errOf(user.InspectCredentialFile(ctx, "acme.bmcred", data, "wrong")), "passphrase")
	info, err = user.InspectCredentialFile(ctx, "acme.bmcred", data, "blue moon")
	if err != nil || !info.Decrypted || info.Provider != provider.Google || !info.HasSecret || info.ClientID != "1234-abc.apps.googleusercontent.com" {
		t.Fatalf("inspect with passphrase %+v %v", info, err)
	}

	wantField(t, errOf(user.ImportCredentialFile(ctx, ImportInput{Source: "acme.bmcred", Data: data, Name: "acme"})), "passphrase")
	res, err := user.ImportCredentialFile(ctx, ImportInput{Source: "acme.bmcred", Data: data, Passphrase: "blue moon", Name: "acme", Trust: made.Signer})
	if err != nil || res.Signer != made.Signer || res.Provider != provider.Google || !res.Passphrase {
		t.Fatalf("import %+v %v", res, err)
	}
	if fe := wantField(t, errOf(user.ImportCredentialFile(ctx, ImportInput{Data: data, Passphrase: "blue moon", Name: "acme"})), "name"); fe.Code != CodeExists {
		t.Fatalf("second import: %v", fe)
	}
	cr, err := user.Credential(ctx, "acme")
	if err != nil || cr.Config.ClientSecret != "" || !cr.HasSecret || cr.Signer != made.Signer {
		t.Fatalf("stored %+v %v", cr, err)
	}
	cfg, err := user.credentialsConfig(ctx, "acme")
	if err != nil || cfg.ClientSecret != googleSecret {
		t.Fatalf("the sign-in gets %q, %v", cfg.ClientSecret, err)
	}
	if err := user.RemoveCredentials(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, user.RemoveCredentials(ctx, "acme"), KindCredentials)
}

// A file whose endpoint is not the provider's could send sign-ins
// elsewhere: it is refused, listing the endpoint, unless accepted.
func TestImportRefusesCustomEndpointsUnlessAccepted(t *testing.T) {
	admin, user := newService(t, Options{}), newService(t, Options{})
	ctx := context.Background()
	data, made, err := admin.CreateCredentialFile(ctx, CreateInput{Provider: "google", ClientID: "id", ClientSecret: "s",
		TokenEndpoint: "https://login.example.net/token"})
	if err != nil {
		t.Fatal(err)
	}
	if len(made.CustomEndpoints) != 1 {
		t.Fatalf("create did not flag the changed default: %v", made.CustomEndpoints)
	}
	info, err := user.InspectCredentialFile(ctx, "f", data, "")
	if err != nil || !info.Decrypted || len(info.CustomEndpoints) != 1 {
		t.Fatalf("inspect %+v %v", info, err)
	}
	_, err = user.ImportCredentialFile(ctx, ImportInput{Source: "f", Data: data, Name: "g"})
	var ce *CustomEndpointsError
	if !errors.As(err, &ce) || ce.Endpoints[0] != "token_endpoint = https://login.example.net/token" || !strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("want a CustomEndpointsError, got %v", err)
	}
	if list, _ := user.Credentials(ctx); len(list) != 0 {
		t.Fatal("imported anyway")
	}
	if _, err := user.ImportCredentialFile(ctx, ImportInput{Source: "f", Data: data, Name: "g", AcceptCustomEndpoints: true}); err != nil {
		t.Fatal(err)
	}
	// A damaged file names what to do and imports nothing.
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 1
	if fe := wantField(t, errOf(user.ImportCredentialFile(ctx, ImportInput{Source: "f", Data: bad, Name: "h"})), "file"); fe.Code != "damaged" {
		t.Fatalf("code %q", fe.Code)
	}
}

func errOf3[A, B any](_ A, _ B, err error) error { return err }

// An issuer is only for a generic provider (the others' endpoints are
// built in); a setting allowed but probably wrong comes back as a Warning
// with a stable code, not as text on some stream.
func TestCreateCredentialFileIssuerAndWarnings(t *testing.T) {
	admin := newService(t, Options{})
	ctx := context.Background()
	wantField(t, errOf3(admin.CreateCredentialFile(ctx, CreateInput{Provider: "google", ClientID: "id", ClientSecret: "s",
		Issuer: "https://accounts.google.com"})), "issuer")
	// No http off this computer, so discovery is never tried.
	wantField(t, errOf3(admin.CreateCredentialFile(ctx, CreateInput{Provider: "generic", ClientID: "id",
		Issuer: "http://idp.example.org"})), "issuer")

	_, made, err := admin.CreateCredentialFile(ctx, CreateInput{Provider: "microsoft", ClientID: "id", ClientSecret: "s"})
	if err != nil || len(made.Warnings) != 1 || made.Warnings[0].Code != "microsoft_client_secret" ||
		!strings.Contains(made.Warnings[0].Message, "desktop apps") {
		t.Fatalf("%+v %v", made, err)
	}
	if _, made, err = admin.CreateCredentialFile(ctx, CreateInput{Provider: "microsoft", ClientID: "id"}); err != nil || len(made.Warnings) != 0 {
		t.Fatalf("no secret: %+v %v", made, err)
	}
}
