package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// tokenResponse is a successful token-endpoint reply.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token"`
}

func httpClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: 60 * time.Second}
}

// addClientAuth puts the client ID, and the secret when there is one, in
// the form (client_secret_post: both providers accept it).
func addClientAuth(form url.Values, cfg provider.Config) {
	form.Set("client_id", cfg.ClientID)
	if cfg.ClientSecret != "" {
		form.Set("client_secret", cfg.ClientSecret)
	}
}

// postForm posts form to endpoint and decodes a JSON reply into out, or
// returns a *ProviderError with the server's error. Its errors never
// contain the form (which holds codes, secrets and tokens).
func postForm(ctx context.Context, c *http.Client, name, endpoint string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(c).Do(req)
	if err != nil {
		return fmt.Errorf("%s %s unreachable: %w", name, hostOf(endpoint), stripURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: reading the reply: %w", name, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Codes       []int  `json:"error_codes"`
		}
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if ct == "application/x-www-form-urlencoded" || ct == "text/plain" {
			v, _ := url.ParseQuery(string(body))
			e.Error, e.Description = v.Get("error"), v.Get("error_description")
		} else if json.Unmarshal(body, &e) != nil || e.Error == "" {
			return &ProviderError{Endpoint: name, Status: resp.StatusCode, Code: "http_error", Description: http.StatusText(resp.StatusCode)}
		}
		// Some servers quote what they refused ("Invalid refresh token:
		// <token>", Spring's authorization server among them): the reply
		// becomes an error message, a log line and the stored reason for a
		// new sign-in, so the request's secrets are cut out of it first.
		return newProviderError(name, resp.StatusCode, scrubForm(e.Error, form), scrubForm(e.Description, form), e.Codes)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s sent a reply that is not JSON: %w", name, err)
		}
	}
	return nil
}

// formPublic names the request fields that hold nothing secret.
var formPublic = map[string]bool{"grant_type": true, "client_id": true, "scope": true, "redirect_uri": true}

// scrubForm masks, in a server's reply text, every secret value of the
// request (code, code_verifier, refresh_token, device_code, client_secret,
// token) that the server quoted back.
func scrubForm(s string, form url.Values) string {
	for k, vs := range form {
		if formPublic[k] {
			continue
		}
		for _, v := range vs {
			if len(v) >= 4 {
				s = strings.ReplaceAll(s, v, "[redacted]")
			}
		}
	}
	return s
}

// stripURLError drops the *url.Error wrapper, whose text repeats the URL.
func stripURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func hostOf(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil {
		return u.Host
	}
	return "?"
}

// tokenRequest calls the token endpoint and checks the reply has a token.
func tokenRequest(ctx context.Context, c *http.Client, cfg provider.Config, form url.Values) (*tokenResponse, error) {
	addClientAuth(form, cfg)
	var tr tokenResponse
	if err := postForm(ctx, c, "token endpoint", cfg.TokenEndpoint, form, &tr); err != nil {
		return nil, err
	}
	if tr.AccessToken == "" {
		return nil, fmt.Errorf("token endpoint %s sent no access_token", hostOf(cfg.TokenEndpoint))
	}
	return &tr, nil
}

// newToken builds a stored Token from a fresh sign-in's reply.
func newToken(cfg provider.Config, tr *tokenResponse, now time.Time) *Token {
	t := &Token{Provider: cfg.Provider, ObtainedAt: now, RefreshTokenAt: now}
	t.apply(tr, now)
	if t.Scopes == nil {
		t.Scopes = strings.Fields(cfg.TokenScope)
	}
	return t
}

// apply merges a token reply into t: a refresh token in the reply
// replaces the stored one (rotation); none keeps it (Google).
func (t *Token) apply(tr *tokenResponse, now time.Time) {
	t.AccessToken = tr.AccessToken
	t.TokenType = tr.TokenType
	t.Expiry = time.Time{}
	if tr.ExpiresIn > 0 {
		t.Expiry = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if tr.RefreshToken != "" {
		if tr.RefreshToken != t.RefreshToken {
			t.RefreshTokenAt = now
		}
		t.RefreshToken = tr.RefreshToken
	}
	if tr.Scope != "" {
		t.Scopes = strings.Fields(tr.Scope)
	}
	if id := identityFromIDToken(tr.IDToken); id != "" {
		t.Identity = id
	}
	t.SignInNeeded, t.SignInReason = "", ""
}

// applyResource merges the reply to a refresh for another resource
// (scope) into t: its access token goes to t.Resources, leaving the
// sign-in's own; a rotated refresh token replaces the stored one exactly
// as in apply, since it is the one grant behind every resource.
func (t *Token) applyResource(scope string, tr *tokenResponse, now time.Time) {
	r := &ResourceToken{AccessToken: tr.AccessToken, IssuedAt: now, Scopes: strings.Fields(tr.Scope)}
	if tr.ExpiresIn > 0 {
		r.Expiry = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if r.Scopes == nil {
		r.Scopes = strings.Fields(scope)
	}
	// A copy: the old Token (kept to find an unsaved rotation) shares the map.
	res := make(map[string]*ResourceToken, len(t.Resources)+1)
	for k, v := range t.Resources {
		res[k] = v
	}
	res[scope] = r
	t.Resources = res
	if tr.RefreshToken != "" {
		if tr.RefreshToken != t.RefreshToken {
			t.RefreshTokenAt = now
		}
		t.RefreshToken = tr.RefreshToken
	}
	t.SignInNeeded = ""
}

// identityFromIDToken reads the e-mail from an ID token's claims. The
// signature is not checked: the token came straight from the token
// endpoint over TLS, and the identity is only displayed and compared with
// the account's From address, never trusted for access decisions.
func identityFromIDToken(idt string) string {
	parts := strings.Split(idt, ".")
	if len(parts) < 2 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var c struct {
		Email             string `json:"email"`
		PreferredUsername string `json:"preferred_username"`
		UPN               string `json:"upn"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	for _, v := range []string{c.Email, c.PreferredUsername, c.UPN} {
		if strings.Contains(v, "@") {
			return v
		}
	}
	return ""
}

// userinfoEmail asks the userinfo endpoint who the token belongs to.
func userinfoEmail(ctx context.Context, c *http.Client, endpoint, accessToken string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := httpClient(c).Do(req)
	if err != nil {
		return "", fmt.Errorf("userinfo endpoint %s: %w", hostOf(endpoint), stripURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("userinfo endpoint %s: HTTP %d", hostOf(endpoint), resp.StatusCode)
	}
	var ui struct {
		Email string `json:"email"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ui); err != nil {
		return "", fmt.Errorf("userinfo endpoint %s: %w", hostOf(endpoint), err)
	}
	return ui.Email, nil
}

// Revoke asks the provider to revoke the grant behind token (RFC 7009;
// Google revokes the whole grant for either token). It returns
// ErrNoRevocation when the provider has no revocation endpoint.
func Revoke(ctx context.Context, c *http.Client, cfg provider.Config, token string) error {
	if cfg.RevokeEndpoint == "" {
		return ErrNoRevocation
	}
	form := url.Values{"token": {token}}
	if cfg.Provider != provider.Google {
		addClientAuth(form, cfg)
	}
	err := postForm(ctx, c, "revocation endpoint", cfg.RevokeEndpoint, form, nil)
	if pe, ok := err.(*ProviderError); ok && pe.Code == "invalid_token" {
		return nil // already dead: the goal is reached
	}
	return err
}

// ErrNoRevocation: the provider offers no way for an app to revoke a token.
var ErrNoRevocation = fmt.Errorf("the provider has no revocation endpoint")
