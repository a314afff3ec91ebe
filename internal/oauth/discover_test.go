package oauth

import (
	"context"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
)

// A generic provider set up from its issuer alone gets the endpoints the
// issuer publishes, scopes to learn who signs in (and a refresh token
// where offered), and keeps whatever the administrator gave.
func TestFillFromIssuer(t *testing.T) {
	ctx := context.Background()
	g := newServer(t, oauthsrv.Options{Flavor: provider.Google})
	cfg, err := FillFromIssuer(ctx, nil, g.URL(), provider.Config{Provider: provider.Generic, ClientID: "x", TokenScope: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	want := g.Config("")
	if cfg.AuthEndpoint != want.AuthEndpoint || cfg.TokenEndpoint != want.TokenEndpoint || cfg.UserinfoURL != want.UserinfoURL ||
		cfg.RevokeEndpoint != want.RevokeEndpoint || cfg.AuthScope != "openid email" || cfg.TokenScope != "mail" {
		t.Errorf("from Google's document: %+v", cfg)
	}
	m := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	issuer := m.URL() + "/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
	cfg, err = FillFromIssuer(ctx, nil, issuer+"/", provider.Config{Provider: provider.Generic, ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ = provider.FillDefaults(cfg)
	if !strings.HasSuffix(cfg.TokenEndpoint, "/oauth2/v2.0/token") || cfg.AuthScope != "openid email offline_access" || cfg.TokenScope != cfg.AuthScope || cfg.Validate() != nil {
		t.Errorf("from Microsoft's document: %+v (%v)", cfg, cfg.Validate())
	}
	for _, c := range []struct{ issuer, want string }{
		{m.URL() + "/contoso.example/v2.0", "names the issuer"}, // Microsoft names the tenant by its ID
		{m.URL() + "/nowhere", "HTTP 404"},
		{"http://idp.example.org/realm", "uses http:// to another computer"},
		{"not a url", "is not an issuer URL"},
	} {
		if _, err := FillFromIssuer(ctx, nil, c.issuer, provider.Config{Provider: provider.Generic}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.issuer, err, c.want)
		}
	}
}
