package oauthsrv

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func start(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func authURL(s *Server, tenant string, mod func(url.Values)) string {
	c := s.Config(tenant)
	q := url.Values{"client_id": {c.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:5555"},
		"scope": {c.AuthScope}, "state": {"st"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"},
		"access_type": {"offline"}}
	if mod != nil {
		mod(q)
	}
	return c.AuthEndpoint + "?" + q.Encode()
}

// post sends a form to the token endpoint and decodes the JSON reply.
func post(t *testing.T, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func code(t *testing.T, s *Server, tenant string, mod func(url.Values)) string {
	t.Helper()
	u, err := (&Browser{}).Authorize(context.Background(), authURL(s, tenant, mod))
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Get("state") != "st" {
		t.Fatalf("state not echoed: %s", u)
	}
	return u.Query().Get("code")
}

func TestMicrosoftFlow(t *testing.T) {
	s := start(t, Options{Flavor: provider.Microsoft})
	c := s.Config("")
	tok := c.TokenEndpoint
	st, m := post(t, tok, url.Values{"client_id": {c.ClientID}, "grant_type": {"authorization_code"}, "code": {code(t, s, "", nil)},
		"redirect_uri": {"http://127.0.0.1:5555"}, "code_verifier": {"wrong-verifier-wrong-verifier-wrong-verifier"}})
	if st != 400 || !strings.HasPrefix(m["error_description"].(string), "AADSTS501481") {
		t.Fatalf("bad verifier: %d %v", st, m)
	}
	st, m = post(t, tok, url.Values{"client_id": {c.ClientID}, "grant_type": {"authorization_code"}, "code": {code(t, s, "", nil)},
		"redirect_uri": {"http://127.0.0.1:5555"}, "code_verifier": {verifier}})
	if st != 200 || m["refresh_token"] == nil || m["id_token"] == nil {
		t.Fatalf("exchange: %d %v", st, m)
	}
	rt1 := m["refresh_token"].(string)
	// No scope on refresh: AADSTS900144.
	st, m = post(t, tok, url.Values{"client_id": {c.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt1}})
	if st != 400 || m["error_codes"].([]any)[0].(float64) != 900144 {
		t.Fatalf("refresh without scope: %d %v", st, m)
	}
	st, m = post(t, tok, url.Values{"client_id": {c.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt1}, "scope": {c.TokenScope}})
	if st != 200 || m["refresh_token"] == rt1 {
		t.Fatalf("refresh did not rotate: %d %v", st, m)
	}
	at := m["access_token"].(string)
	if sub, scopes, err := s.ValidateAccessToken(at); err != nil || sub != "user@example.com" || strings.Join(scopes, " ") != "https://outlook.office.com/SMTP.Send" {
		t.Fatalf("validate: %q %v %v", sub, scopes, err)
	}
	// Re-using rt1 revokes the grant, the new refresh token and access token included.
	st, m = post(t, tok, url.Values{"client_id": {c.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt1}, "scope": {c.TokenScope}})
	if st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", st, m)
	}
	if _, _, err := s.ValidateAccessToken(at); err == nil {
		t.Fatal("access token survived the revocation of its grant")
	}
	// A client secret sent by a public client: AADSTS700025.
	st, m = post(t, tok, url.Values{"client_id": {c.ClientID}, "client_secret": {"x"}, "grant_type": {"refresh_token"}, "refresh_token": {"x"}, "scope": {"x"}})
	if st != 401 || !strings.Contains(m["error_description"].(string), "AADSTS700025") {
		t.Fatalf("public client with secret: %d %v", st, m)
	}
}

func TestMicrosoftSingleTenantRefusesCommon(t *testing.T) {
	s := start(t, Options{Flavor: provider.Microsoft, HomeTenant: "contoso.example"})
	u, err := (&Browser{}).Authorize(context.Background(), authURL(s, "common", nil))
	if err == nil || !strings.Contains(err.Error(), "AADSTS50194") {
		t.Fatalf("common on a single-tenant app: %v %v", u, err)
	}
	if code(t, s, "contoso.example", nil) == "" {
		t.Fatal("no code for the home tenant")
	}
}

// Every Microsoft endpoint names a tenant's refusal by its own AADSTS
// number: an unknown tenant is 90002 at the device endpoint too, not the
// single-tenant 50194 that bluemoon explains as a registration problem.
func TestMicrosoftTenantErrorsKeepTheirNumber(t *testing.T) {
	s := start(t, Options{Flavor: provider.Microsoft, HomeTenant: "contoso.example"})
	for _, c := range []struct {
		tenant string
		want   float64
	}{{"not_a_tenant", 90002}, {"common", 50194}} {
		cfg := s.Config(c.tenant)
		for _, ep := range []string{cfg.DeviceEndpoint, cfg.TokenEndpoint} {
			st, m := post(t, ep, url.Values{"client_id": {cfg.ClientID}, "scope": {cfg.TokenScope},
				"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
			codes, _ := m["error_codes"].([]any)
			desc, _ := m["error_description"].(string)
			if st != 400 || len(codes) != 1 || codes[0] != c.want || strings.Count(desc, "AADSTS") != 1 {
				t.Errorf("%s: %d %v", ep, st, m)
			}
		}
	}
}

func TestAuthorizeRefusesPlainPKCEAndForeignRedirect(t *testing.T) {
	s := start(t, Options{Flavor: provider.Google})
	u, err := (&Browser{}).Authorize(context.Background(), authURL(s, "", func(q url.Values) { q.Set("code_challenge_method", "plain") }))
	if err != nil || u.Query().Get("error") != "invalid_request" {
		t.Fatalf("plain PKCE: %v %v", u, err)
	}
	_, err = (&Browser{}).Authorize(context.Background(), authURL(s, "", func(q url.Values) { q.Set("redirect_uri", "http://evil.example/") }))
	if err == nil || !strings.Contains(err.Error(), "redirect_uri_mismatch") {
		t.Fatalf("foreign redirect: %v", err)
	}
}

func TestGoogleFlow(t *testing.T) {
	s := start(t, Options{Flavor: provider.Google})
	c := s.Config("")
	form := url.Values{"client_id": {c.ClientID}, "grant_type": {"authorization_code"}, "code": {code(t, s, "", nil)},
		"redirect_uri": {"http://127.0.0.1:5555"}, "code_verifier": {verifier}}
	st, m := post(t, c.TokenEndpoint, form)
	if st != 400 || m["error_description"] != "client_secret is missing." {
		t.Fatalf("no secret: %d %v", st, m)
	}
	form.Set("client_secret", c.ClientSecret)
	form.Set("code", code(t, s, "", nil))
	_, m = post(t, c.TokenEndpoint, form)
	rt := m["refresh_token"].(string)
	st, m = post(t, c.TokenEndpoint, url.Values{"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if st != 200 || m["refresh_token"] != nil {
		t.Fatalf("Google refresh: %d %v", st, m)
	}
	if s.RefreshCount() != 1 {
		t.Fatal("refresh not counted")
	}
	st, _ = post(t, c.RevokeEndpoint, url.Values{"token": {rt}})
	if st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	st, m = post(t, c.TokenEndpoint, url.Values{"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if st != 400 || m["error"] != "invalid_grant" || m["error_description"] != "Token has been expired or revoked." {
		t.Fatalf("after revoke: %d %v", st, m)
	}
}
