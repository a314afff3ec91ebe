package provider

import (
	"errors"
	"strings"
	"testing"
)

func TestMicrosoftTenantIsSubstituted(t *testing.T) {
	for _, tenant := range []string{"common", "organizations", "consumers", "contoso.onmicrosoft.com", "72f988bf-86f1-41af-91ab-2d7cd011db47"} {
		d, err := Defaults(Microsoft, tenant)
		if err != nil {
			t.Fatalf("%s: %v", tenant, err)
		}
		base := "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/"
		if d.AuthEndpoint != base+"authorize" || d.TokenEndpoint != base+"token" || d.DeviceEndpoint != base+"devicecode" {
			t.Errorf("%s: %+v", tenant, d)
		}
	}
	d, _ := Defaults(Microsoft, "")
	if d.Tenant != "organizations" || !strings.Contains(d.TokenEndpoint, "/organizations/") {
		t.Errorf("default tenant: %+v", d)
	}
}

func TestInvalidTenants(t *testing.T) {
	for _, bad := range []string{"contoso", "a b", "x/../y", "-bad.com", "common ", "72f988bf-86f1-41af-91ab", "https://evil.example"} {
		err := ValidateTenant(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		for _, form := range []string{"common", "organizations", "consumers", "contoso.onmicrosoft.com", "GUID"} {
			if !strings.Contains(err.Error(), form) {
				t.Errorf("%q: error %q lacks %s", bad, err, form)
			}
		}
	}
	if _, err := Defaults(Google, "contoso.com"); err == nil {
		t.Error("google accepted a tenant")
	}
}

func TestScopesWorkForSMTP(t *testing.T) {
	g, _ := Defaults(Google, "")
	if g.TokenScope != "https://mail.google.com/" || !strings.Contains(g.AuthScope, "https://mail.google.com/") {
		t.Errorf("google scopes %q / %q", g.AuthScope, g.TokenScope)
	}
	m, _ := Defaults(Microsoft, "")
	for _, s := range []string{m.AuthScope, m.TokenScope} {
		// A Graph-prefixed SMTP.Send token fails SMTP with 535 5.7.3.
		if !strings.Contains(s, "https://outlook.office.com/SMTP.Send") || !strings.Contains(s, "offline_access") || strings.Contains(s, "graph.microsoft.com") {
			t.Errorf("microsoft scope %q", s)
		}
	}
	if g.RedirectURI != "http://127.0.0.1" || m.RedirectURI != "http://127.0.0.1" {
		t.Error("redirect URI is not the loopback the guide registers")
	}
}

func TestValidateNamesTheMissingField(t *testing.T) {
	full, _ := FillDefaults(Config{Provider: Google, ClientID: "id", ClientSecret: "s"})
	if err := full.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{Provider: Google, ClientSecret: "s"}, "client_id"},
		{Config{Provider: Google, ClientID: "id"}, "client_secret"},
		{Config{Provider: Generic, ClientID: "id"}, "auth_endpoint"},
		{Config{Provider: Generic, ClientID: "id", AuthEndpoint: "https://a/x", AuthScope: "s"}, "token_endpoint"},
	} {
		cfg, err := FillDefaults(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var missing *MissingFieldError
		if err := cfg.Validate(); !errors.As(err, &missing) || missing.Field != tc.field {
			t.Errorf("%+v: %v, want missing %s", tc.cfg, err, tc.field)
		}
	}
	ms, _ := FillDefaults(Config{Provider: Microsoft, ClientID: "id"})
	if err := ms.Validate(); err != nil || ms.ClientSecret != "" {
		t.Errorf("microsoft public client: %v, secret %q", err, ms.ClientSecret)
	}
	bad := full
	bad.TokenEndpoint = "ftp://x/token"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "token_endpoint") {
		t.Errorf("ftp endpoint: %v", err)
	}
}

func TestFillDefaultsKeepsWhatTheAdminSet(t *testing.T) {
	c, err := FillDefaults(Config{Provider: Microsoft, Tenant: "contoso.onmicrosoft.com", ClientID: "id", TokenScope: "custom"})
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenScope != "custom" || c.AuthScope != MicrosoftAuthScope || !strings.Contains(c.AuthEndpoint, "contoso.onmicrosoft.com") {
		t.Errorf("%+v", c)
	}
}

func TestCustomEndpoints(t *testing.T) {
	c, _ := FillDefaults(Config{Provider: Microsoft, Tenant: "contoso.onmicrosoft.com", ClientID: "id"})
	if got := c.CustomEndpoints(); len(got) != 0 {
		t.Errorf("defaults reported custom: %v", got)
	}
	// A file for another tenant's endpoints than it says is custom.
	c.TokenEndpoint = SubstituteTenant(MicrosoftTokenEndpoint, "evil.onmicrosoft.com")
	if got := c.CustomEndpoints(); len(got) != 1 || !strings.HasPrefix(got[0], "token_endpoint = ") {
		t.Errorf("swapped token endpoint: %v", got)
	}
	g, _ := FillDefaults(Config{Provider: Generic, ClientID: "id", AuthEndpoint: "https://a/auth", TokenEndpoint: "https://a/token"})
	if got := g.CustomEndpoints(); len(got) != 2 {
		t.Errorf("generic: %v", got)
	}
}

func TestPresetsAndLimits(t *testing.T) {
	if p, ok := SMTPPresetFor(Google); !ok || p.Host != "smtp.gmail.com" || p.Port != 465 || p.Security != "tls" {
		t.Errorf("google preset %+v", p)
	}
	if p, ok := SMTPPresetFor(Microsoft); !ok || p.Host != "smtp.office365.com" || p.Port != 587 || p.Security != "starttls" {
		t.Errorf("microsoft preset %+v", p)
	}
	if _, ok := SMTPPresetFor(Generic); ok {
		t.Error("generic has a preset")
	}
	if l := LimitsFor(Microsoft); l.PerMinute != 30 || l.PerDay != 10000 || l.Connections != 3 {
		t.Errorf("microsoft limits %+v", l)
	}
	if l := LimitsFor(Google); l.PerDay != 2000 || l.RecipientsPerMsg != 100 {
		t.Errorf("google limits %+v", l)
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"google": Google, " Microsoft ": Microsoft, "GENERIC": Generic} {
		if k, err := ParseKind(in); err != nil || k != want {
			t.Errorf("%q: %v %v", in, k, err)
		}
	}
	if _, err := ParseKind("yahoo"); err == nil || !strings.Contains(err.Error(), "google, microsoft or generic") {
		t.Errorf("yahoo: %v", err)
	}
}

// People type the well-known tenants in any case (--tenant COMMON):
// accepted, written in lower case, and the endpoints are still the
// defaults (not "custom").
func TestWellKnownTenantsInAnyCase(t *testing.T) {
	for _, in := range []string{"COMMON", "Organizations", " consumers "} {
		d, err := Defaults(Microsoft, in)
		want := strings.ToLower(strings.TrimSpace(in))
		if err != nil || d.Tenant != want || !strings.Contains(d.AuthEndpoint, "/"+want+"/") {
			t.Errorf("%q: %v %+v", in, err, d)
		}
		c, err := FillDefaults(Config{Provider: Microsoft, Tenant: in, ClientID: "id"})
		if err != nil || c.Tenant != want || c.Validate() != nil || len(c.CustomEndpoints()) != 0 {
			t.Errorf("%q: %v %+v custom %v", in, err, c, c.CustomEndpoints())
		}
	}
}

// Plain http is for this computer only: an endpoint elsewhere over http
// would carry codes and tokens in the clear.
func TestHTTPEndpointsOnlyOnLoopback(t *testing.T) {
	base := Config{Provider: Generic, ClientID: "id", AuthScope: "openid", TokenScope: "openid", RedirectURI: DefaultRedirectURI}
	for _, u := range []string{"http://127.0.0.1:8080/token", "http://localhost/token", "http://[::1]:9/t", "https://idp.example.org/token"} {
		c := base
		c.AuthEndpoint, c.TokenEndpoint = u, u
		if err := c.Validate(); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, key := range []string{"auth_endpoint", "token_endpoint", "userinfo_endpoint", "revoke_endpoint", "device_endpoint"} {
		c := base
		c.AuthEndpoint, c.TokenEndpoint = "https://idp.example.org/a", "https://idp.example.org/t"
		evil := "http://idp.example.org/x"
		switch key {
		case "auth_endpoint":
			c.AuthEndpoint = evil
		case "token_endpoint":
			c.TokenEndpoint = evil
		case "userinfo_endpoint":
			c.UserinfoURL = evil
		case "revoke_endpoint":
			c.RevokeEndpoint = evil
		case "device_endpoint":
			c.DeviceEndpoint = evil
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "unencrypted") {
			t.Errorf("%s over http to another host: %v", key, err)
		}
	}
}

func TestMicrosoftSecretWarns(t *testing.T) {
	c, _ := FillDefaults(Config{Provider: Microsoft, ClientID: "id", ClientSecret: "s"})
	if w := c.Warnings(); len(w) != 1 || w[0].Code != "microsoft_client_secret" || !strings.Contains(w[0].Message, "desktop apps") {
		t.Errorf("warnings %v", w)
	}
	c.ClientSecret = ""
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("no secret, warnings %v", w)
	}
	g, _ := FillDefaults(Config{Provider: Google, ClientID: "id", ClientSecret: "s"})
	if w := g.Warnings(); len(w) != 0 {
		t.Errorf("google with its secret: %v", w)
	}
}

// The providers' documented submission servers are known in any case,
// with a trailing dot; the presets among them; anything else is no one's.
func TestHostProviderKnowsTheDocumentedSubmissionServers(t *testing.T) {
	for host, want := range map[string]Kind{
		"smtp.gmail.com": Google, "SMTP.Gmail.com": Google, "smtp.gmail.com.": Google, "smtp-relay.gmail.com": Google,
		"smtp.office365.com": Microsoft, "Smtp-Mail.Outlook.com": Microsoft, "smtp-mail.outlook.com.": Microsoft,
		"smtp.office365.us": Microsoft, "smtp.partner.outlook.cn": Microsoft,
	} {
		if got, ok := HostProvider(host); !ok || got != want {
			t.Errorf("HostProvider(%q) = %q, %v; want %q", host, got, ok, want)
		}
	}
	for _, host := range []string{"", "mail.example.com", "gmail.com", "smtp.gmail.com.evil.example", "evilsmtp.gmail.com", "smtp.office365.com..", "outlook.com"} {
		if got, ok := HostProvider(host); ok {
			t.Errorf("HostProvider(%q) = %q; want no provider", host, got)
		}
	}
	for _, k := range []Kind{Google, Microsoft} {
		p, _ := SMTPPresetFor(k)
		if got, ok := HostProvider(p.Host); !ok || got != k {
			t.Errorf("%s's preset server %s is not known as %s's", k, p.Host, k)
		}
	}
}
