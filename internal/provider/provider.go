// Package provider holds the OAuth 2.0 settings of each supported provider:
// the defaults the admin guide's 既定値の設定 button fills in, Microsoft's
// tenant rules, and the SMTP presets and sending limits that go with them.
package provider

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Kind names an OAuth provider.
type Kind string

const (
	Google    Kind = "google"
	Microsoft Kind = "microsoft"
	Generic   Kind = "generic" // any other OAuth 2.0 server: every endpoint given explicitly
)

// ParseKind accepts a provider name, case-insensitively.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case Google, Microsoft, Generic:
		return k, nil
	}
	return "", fmt.Errorf("unknown provider %q: use google, microsoft or generic", s)
}

// Config is everything a sign-in needs: the seven fields of the guide's
// credential file screen plus the redirect URI and the endpoints the guide
// leaves implicit (device code, revocation, userinfo).
type Config struct {
	Provider       Kind   `json:"provider"`
	Tenant         string `json:"tenant,omitempty"`
	ClientID       string `json:"client_id"`
	ClientSecret   string `json:"client_secret,omitempty"`
	AuthEndpoint   string `json:"auth_endpoint"`
	AuthScope      string `json:"auth_scope"`
	TokenEndpoint  string `json:"token_endpoint"`
	TokenScope     string `json:"token_scope"`
	RedirectURI    string `json:"redirect_uri"`
	DeviceEndpoint string `json:"device_endpoint,omitempty"`
	RevokeEndpoint string `json:"revoke_endpoint,omitempty"`
	UserinfoURL    string `json:"userinfo_endpoint,omitempty"`
	// APIEndpoint is the base URL of the provider's HTTPS mail API, for
	// accounts that send --via graph or gmail-api (national clouds such as
	// https://graph.microsoft.us need their own); "" means the default.
	APIEndpoint string `json:"api_endpoint,omitempty"`
	// APIScope is what the API's access token is asked for. Microsoft gives
	// one token per resource, so Graph's Mail.Send is redeemed from the
	// same refresh token as SMTP.Send; Google's mail scope covers both.
	APIScope string `json:"api_scope,omitempty"`
}

// DefaultTenant is the guide's default: work and school accounts only.
const DefaultTenant = "organizations"

// TenantPlaceholder is replaced by the tenant in Microsoft's endpoints.
const TenantPlaceholder = "{tenant}"

// DefaultRedirectURI is what the guide registers for the desktop app; the
// loopback listener adds the port it got (both providers ignore the port
// when matching loopback redirects).
const DefaultRedirectURI = "http://127.0.0.1"

// Provider facts, checked against Google's and Microsoft's documentation.
const (
	GoogleAuthEndpoint   = "https://accounts.google.com/o/oauth2/v2/auth"
	GoogleTokenEndpoint  = "https://oauth2.googleapis.com/token"
	GoogleRevokeEndpoint = "https://oauth2.googleapis.com/revoke"
	GoogleUserinfo       = "https://openidconnect.googleapis.com/v1/userinfo"
	// SMTP needs the restricted full-mail scope; openid email tell us who
	// signed in so we can warn when it is not the account's From address.
	GoogleAuthScope  = "https://mail.google.com/ openid email"
	GoogleTokenScope = "https://mail.google.com/"

	MicrosoftAuthEndpoint   = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"
	MicrosoftTokenEndpoint  = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
	MicrosoftDeviceEndpoint = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode"
	// The SMTP resource is outlook.office.com even though the portal lists
	// SMTP.Send under Microsoft Graph; a Graph token fails SMTP with 535 5.7.3.
	MicrosoftAuthScope  = "https://outlook.office.com/SMTP.Send offline_access openid email"
	MicrosoftTokenScope = "https://outlook.office.com/SMTP.Send offline_access"

	// The HTTPS mail APIs (accounts --via graph / gmail-api). Graph needs
	// the delegated Mail.Send permission on graph.microsoft.com; Gmail's
	// users.messages.send accepts the token of https://mail.google.com/.
	GraphEndpoint    = "https://graph.microsoft.com"
	GraphScope       = "https://graph.microsoft.com/Mail.Send offline_access"
	GmailAPIEndpoint = "https://gmail.googleapis.com"
)

// Defaults returns the provider's default Config (client ID and secret
// empty: those come from the admin's app registration). For Microsoft the
// tenant is validated and substituted; "" means DefaultTenant.
func Defaults(kind Kind, tenant string) (Config, error) {
	switch kind {
	case Google:
		if tenant != "" {
			return Config{}, fmt.Errorf("tenant %q given for google: only microsoft has tenants", tenant)
		}
		return Config{
			Provider:       Google,
			AuthEndpoint:   GoogleAuthEndpoint,
			AuthScope:      GoogleAuthScope,
			TokenEndpoint:  GoogleTokenEndpoint,
			TokenScope:     GoogleTokenScope,
			RedirectURI:    DefaultRedirectURI,
			RevokeEndpoint: GoogleRevokeEndpoint,
			UserinfoURL:    GoogleUserinfo,
			APIEndpoint:    GmailAPIEndpoint,
			APIScope:       GoogleTokenScope,
		}, nil
	case Microsoft:
		tenant = NormalizeTenant(tenant)
		if tenant == "" {
			tenant = DefaultTenant
		}
		if err := ValidateTenant(tenant); err != nil {
			return Config{}, err
		}
		return Config{
			Provider:       Microsoft,
			Tenant:         tenant,
			AuthEndpoint:   SubstituteTenant(MicrosoftAuthEndpoint, tenant),
			AuthScope:      MicrosoftAuthScope,
			TokenEndpoint:  SubstituteTenant(MicrosoftTokenEndpoint, tenant),
			TokenScope:     MicrosoftTokenScope,
			RedirectURI:    DefaultRedirectURI,
			DeviceEndpoint: SubstituteTenant(MicrosoftDeviceEndpoint, tenant),
			APIEndpoint:    GraphEndpoint,
			APIScope:       GraphScope,
		}, nil
	case Generic:
		return Config{Provider: Generic, Tenant: tenant, RedirectURI: DefaultRedirectURI}, nil
	}
	return Config{}, fmt.Errorf("unknown provider %q: use google, microsoft or generic", kind)
}

// SubstituteTenant replaces {tenant} in a Microsoft endpoint.
func SubstituteTenant(endpoint, tenant string) string {
	return strings.ReplaceAll(endpoint, TenantPlaceholder, url.PathEscape(tenant))
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.(?i:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?))+$`)
)

// TenantForms describes the accepted tenant values, for error messages.
const TenantForms = "common (work/school and personal accounts), organizations (work/school accounts; the default), " +
	"consumers (personal Microsoft accounts), a verified domain such as contoso.onmicrosoft.com, or a tenant ID (GUID)"

// NormalizeTenant trims t and writes Microsoft's well-known tenants in
// lower case (Microsoft matches them case-insensitively, and people type
// COMMON): the endpoints then compare equal to the defaults.
func NormalizeTenant(t string) string {
	t = strings.TrimSpace(t)
	switch l := strings.ToLower(t); l {
	case "common", "organizations", "consumers":
		return l
	}
	return t
}

// ValidateTenant accepts the tenant forms Microsoft's v2.0 endpoint takes,
// the well-known names in any case.
func ValidateTenant(t string) error {
	switch strings.ToLower(t) {
	case "common", "organizations", "consumers":
		return nil
	}
	if guidRE.MatchString(t) || (len(t) <= 253 && domainRE.MatchString(t)) {
		return nil
	}
	return fmt.Errorf("invalid Microsoft tenant %q: use %s", t, TenantForms)
}

// FillDefaults returns c with every empty field taken from the provider's
// defaults (the tenant applied first), leaving the fields the admin set.
func FillDefaults(c Config) (Config, error) {
	if c.Provider == Microsoft {
		c.Tenant = NormalizeTenant(c.Tenant)
	}
	d, err := Defaults(c.Provider, c.Tenant)
	if err != nil {
		return Config{}, err
	}
	return c.Or(d), nil
}

// Or returns c with every empty setting (the tenant, endpoints, scopes
// and redirect URI; never the client's ID or secret) taken from d.
func (c Config) Or(d Config) Config {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&c.Tenant, d.Tenant)
	fill(&c.AuthEndpoint, d.AuthEndpoint)
	fill(&c.AuthScope, d.AuthScope)
	fill(&c.TokenEndpoint, d.TokenEndpoint)
	fill(&c.TokenScope, d.TokenScope)
	fill(&c.RedirectURI, d.RedirectURI)
	fill(&c.DeviceEndpoint, d.DeviceEndpoint)
	fill(&c.RevokeEndpoint, d.RevokeEndpoint)
	fill(&c.UserinfoURL, d.UserinfoURL)
	fill(&c.APIEndpoint, d.APIEndpoint)
	fill(&c.APIScope, d.APIScope)
	return c
}

// MissingFieldError names a required field a Config lacks.
type MissingFieldError struct {
	Field string // JSON key, e.g. "client_secret"
	Why   string
}

func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("missing %s: %s", e.Field, e.Why)
}

// InvalidFieldError names a field of a Config that holds what it cannot
// (an endpoint that is not an https address).
type InvalidFieldError struct {
	Field   string // JSON key, e.g. "token_endpoint"
	Message string
}

func (e *InvalidFieldError) Error() string { return e.Message }

// Validate checks that c is complete enough to sign in with.
func (c Config) Validate() error {
	if _, err := ParseKind(string(c.Provider)); err != nil {
		return err
	}
	if c.ClientID == "" {
		return &MissingFieldError{"client_id", "the client ID from the app registration is always required (--client-id)"}
	}
	if c.Provider == Google && c.ClientSecret == "" {
		return &MissingFieldError{"client_secret", "Google's token endpoint requires the client secret of the OAuth client (--client-secret)"}
	}
	if c.Provider == Microsoft {
		if err := ValidateTenant(c.Tenant); err != nil {
			return err
		}
	}
	for _, f := range []struct{ key, val, flag string }{
		{"auth_endpoint", c.AuthEndpoint, "--auth-endpoint"},
		{"auth_scope", c.AuthScope, "--auth-scope"},
		{"token_endpoint", c.TokenEndpoint, "--token-endpoint"},
		{"token_scope", c.TokenScope, "--token-scope"},
		{"redirect_uri", c.RedirectURI, "--redirect-uri"},
	} {
		if strings.TrimSpace(f.val) == "" {
			return &MissingFieldError{f.key, "required; give it with " + f.flag}
		}
	}
	for _, f := range []struct{ key, val string }{
		{"auth_endpoint", c.AuthEndpoint}, {"token_endpoint", c.TokenEndpoint},
		{"redirect_uri", c.RedirectURI}, {"device_endpoint", c.DeviceEndpoint},
		{"revoke_endpoint", c.RevokeEndpoint}, {"userinfo_endpoint", c.UserinfoURL},
		{"api_endpoint", c.APIEndpoint},
	} {
		if f.val == "" {
			continue
		}
		u, err := url.Parse(f.val)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &InvalidFieldError{f.key, fmt.Sprintf("%s %q is not an http(s) URL", f.key, f.val)}
		}
		if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
			// Codes, tokens and the client secret would cross the network
			// in the clear, readable and changeable by anyone on the path.
			return &InvalidFieldError{f.key, fmt.Sprintf("%s %q uses http:// to another computer: sign-in codes and tokens would travel unencrypted; use https:// (plain http is only for this computer, 127.0.0.1)", f.key, f.val)}
		}
	}
	return nil
}

// IsLoopbackHost reports whether host names this computer: 127.0.0.0/8,
// ::1 or localhost.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Warning is a setting allowed in a Config but probably a mistake.
type Warning struct {
	Code    string // stable, for a face to branch on: "microsoft_client_secret"
	Message string // in words an administrator can act on
}

func (w Warning) String() string { return w.Message }

// Warnings lists what is allowed in c but probably a mistake (credentials
// create shows them).
func (c Config) Warnings() []Warning {
	var out []Warning
	if c.Provider == Microsoft && c.ClientSecret != "" {
		out = append(out, Warning{Code: "microsoft_client_secret", Message: "a client secret was given for microsoft, but desktop apps (public clients, what the guide registers) have none: " +
			"Microsoft refuses a secret from a public client (AADSTS700025). Leave it out unless the app is registered as a confidential (web) client"})
	}
	return out
}

// CustomEndpoints lists the endpoints of c that differ from its provider's
// defaults (for c's tenant). Such a file could send users' sign-ins to
// someone else, so import shows them and asks for consent. Generic configs
// have no defaults: every endpoint is listed.
func (c Config) CustomEndpoints() []string {
	d, err := Defaults(c.Provider, c.Tenant)
	if err != nil {
		d = Config{}
	}
	var out []string
	check := func(key, got, want string) {
		if got != "" && got != want {
			out = append(out, key+" = "+got)
		}
	}
	check("auth_endpoint", c.AuthEndpoint, d.AuthEndpoint)
	check("token_endpoint", c.TokenEndpoint, d.TokenEndpoint)
	check("device_endpoint", c.DeviceEndpoint, d.DeviceEndpoint)
	check("revoke_endpoint", c.RevokeEndpoint, d.RevokeEndpoint)
	check("userinfo_endpoint", c.UserinfoURL, d.UserinfoURL)
	check("api_endpoint", c.APIEndpoint, d.APIEndpoint)
	return out
}

// API returns the mail API's base URL and the scope its token needs:
// the fields of c, else the provider's defaults (files made before these
// fields existed have neither). scope is "" when the sign-in's own token
// serves the API too (Google), and base "" when the provider has no API.
func (c Config) API() (base, scope string) {
	d, _ := Defaults(c.Provider, c.Tenant)
	base, scope = c.APIEndpoint, c.APIScope
	if base == "" {
		base = d.APIEndpoint
	}
	if scope == "" {
		scope = d.APIScope
	}
	base = strings.TrimRight(base, "/")
	if c.Provider == Google || sameScopes(scope, c.TokenScope) {
		scope = ""
	}
	return base, scope
}

// WithAPIScope returns c with the API's scope added to the scopes the
// sign-in asks for, so that one sign-in (and one consent) covers both the
// sign-in's own resource and the API: Microsoft redeems the refresh token
// for a Graph token only if the user or an admin consented to Mail.Send.
func (c Config) WithAPIScope() Config {
	_, scope := c.API()
	for _, sc := range strings.Fields(scope) {
		if !sameScopes(sc, c.AuthScope) && !hasField(c.AuthScope, sc) {
			c.AuthScope = strings.TrimSpace(c.AuthScope + " " + sc)
		}
	}
	return c
}

func hasField(list, f string) bool {
	for _, x := range strings.Fields(list) {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

// sameScopes reports whether a and b hold the same scopes, in any order.
func sameScopes(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) != len(fb) {
		return false
	}
	for _, x := range fa {
		if !hasField(b, x) {
			return false
		}
	}
	return true
}
