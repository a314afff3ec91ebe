package peertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Clients registered in .ci/peers/oidc/server.mjs.
const (
	clientPublic = "bluemoon"       // public native client, rotating refresh tokens
	clientShort  = "bluemoon-short" // the same, access tokens live OIDC_SHORT_ACCESS_TTL (5 s)
	mailScope    = "openid email mail offline_access"
)

// rawConfig is an x/oauth2 configuration for one of the test clients. The redirect URI's port
// does not matter to oidc-provider for loopback addresses, and nothing listens there: the
// browser stops at the redirect and hands the code back.
func rawConfig(d discovery, clientID string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    clientID,
		Endpoint:    oauth2.Endpoint{AuthURL: d.Authorization, TokenURL: d.Token, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://127.0.0.1:9/",
		Scopes:      strings.Fields(mailScope),
	}
}

// rawSignIn gets tokens for login through a real authorization-code + PKCE (S256) flow, with the
// test playing the browser: independent of bluemoon's own sign-in code, so that the peers can
// be checked on their own.
func rawSignIn(t *testing.T, cfg *oauth2.Config, login string) *oauth2.Token {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	verifier := oauth2.GenerateVerifier()
	state := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	b := newBrowser(t, env.Issuer, login)
	back, err := b.authorize(ctx, authURL)
	if err != nil {
		t.Fatalf("sign in as %s: %v", login, err)
	}
	q := back.Query()
	if !strings.HasPrefix(back.String(), "http://127.0.0.1:9/") || q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("sign in as %s: unexpected redirect %s", login, redact(back))
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("sign in as %s: code exchange: %v", login, err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("sign in as %s: token response lacks an access or refresh token (refresh token present: %v)", login, tok.RefreshToken != "")
	}
	return tok
}

// redact drops the code from a redirect URL before it goes into a failure message.
func redact(u *url.URL) string {
	c := *u
	q := c.Query()
	if q.Has("code") {
		q.Set("code", "REDACTED")
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// rawRefresh runs the refresh_token grant with rt and returns the new tokens.
func rawRefresh(ctx context.Context, cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
}

// isInvalidGrant reports an OAuth invalid_grant error from the token endpoint.
func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}

// rawTokens is a transport.TokenSource over x/oauth2 that hands out whatever access token it
// holds, stale or not (so that a test can make the server be the one to refuse it), and runs the
// refresh_token grant when the transport asks for a forced refresh.
type rawTokens struct {
	cfg *oauth2.Config

	mu       sync.Mutex
	tok      *oauth2.Token
	Issued   []string // every access token handed out, in order
	Refreshs int
}

func (s *rawTokens) AccessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Issued = append(s.Issued, s.tok.AccessToken)
	return s.tok.AccessToken, nil
}

func (s *rawTokens) RefreshRefused(ctx context.Context, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Refreshs++
	nt, err := rawRefresh(ctx, s.cfg, s.tok.RefreshToken)
	if err != nil {
		return "", fmt.Errorf("refresh: %w", err)
	}
	s.tok = nt
	s.Issued = append(s.Issued, nt.AccessToken)
	return nt.AccessToken, nil
}

// fixedTokens always hands out the same token: for a bad or revoked one.
type fixedTokens struct {
	token    string
	Refreshs int
}

func (f *fixedTokens) AccessToken(context.Context) (string, error) { return f.token, nil }
func (f *fixedTokens) RefreshRefused(context.Context, string) (string, error) {
	f.Refreshs++
	return f.token, nil
}

// revoke revokes token at oidc-provider (RFC 7009) as the public client that got it; the
// server then revokes the whole grant.
func revoke(t *testing.T, d discovery, clientID, token, hint string) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {clientID}}
	resp, err := http.PostForm(d.Revocation, form)
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: HTTP %d", resp.StatusCode)
	}
}
