package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// discovery is the part of an OpenID Provider's configuration document
// (OpenID Connect Discovery 1.0, section 3) a sign-in needs.
type discovery struct {
	Issuer        string   `json:"issuer"`
	Authorization string   `json:"authorization_endpoint"`
	Token         string   `json:"token_endpoint"`
	Userinfo      string   `json:"userinfo_endpoint"`
	Revocation    string   `json:"revocation_endpoint"`
	Device        string   `json:"device_authorization_endpoint"`
	Scopes        []string `json:"scopes_supported"`
}

// DiscoveryPath is where an issuer publishes its configuration.
const DiscoveryPath = "/.well-known/openid-configuration"

// FillFromIssuer sets every endpoint of cfg that is empty from the OpenID
// configuration the issuer publishes, and the scopes, when not given, to
// "openid email" (to learn who signed in) plus offline_access when the
// issuer offers it (for a refresh token). Fields already set are kept: an
// administrator can still name any endpoint or add the mail scope the
// server wants. The document must name the same issuer it was fetched
// from, as the specification requires, so that one server cannot pass
// off another's endpoints.
func FillFromIssuer(ctx context.Context, c *http.Client, issuer string, cfg provider.Config) (provider.Config, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return cfg, fmt.Errorf("--issuer %q is not an issuer URL such as https://login.example.org/realm", issuer)
	}
	if u.Scheme == "http" && !provider.IsLoopbackHost(u.Hostname()) {
		return cfg, fmt.Errorf("--issuer %q uses http:// to another computer: sign-ins would travel unencrypted; use https://", issuer)
	}
	where := strings.TrimSuffix(issuer, "/") + DiscoveryPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return cfg, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(c).Do(req)
	if err != nil {
		return cfg, fmt.Errorf("OpenID discovery at %s: %w", where, stripURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return cfg, fmt.Errorf("OpenID discovery at %s: %w", where, err)
	}
	if resp.StatusCode != http.StatusOK {
		return cfg, fmt.Errorf("OpenID discovery at %s: HTTP %d; check --issuer (it is the address before %s)", where, resp.StatusCode, DiscoveryPath)
	}
	var d discovery
	if err := json.Unmarshal(body, &d); err != nil {
		return cfg, fmt.Errorf("OpenID discovery at %s: not an OpenID configuration (%v)", where, err)
	}
	if strings.TrimSuffix(d.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return cfg, fmt.Errorf("OpenID discovery at %s names the issuer %q, not %q: refused (give --issuer exactly as the server names itself)", where, d.Issuer, issuer)
	}
	if d.Authorization == "" || d.Token == "" {
		return cfg, fmt.Errorf("OpenID discovery at %s has no authorization or token endpoint", where)
	}
	scope := "openid email"
	if slices.Contains(d.Scopes, "offline_access") {
		scope += " offline_access"
	}
	cfg = cfg.Or(provider.Config{AuthEndpoint: d.Authorization, TokenEndpoint: d.Token, UserinfoURL: d.Userinfo,
		RevokeEndpoint: d.Revocation, DeviceEndpoint: d.Device, AuthScope: scope})
	return cfg.Or(provider.Config{TokenScope: cfg.AuthScope}), nil
}
