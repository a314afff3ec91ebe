package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// echoingTokenEndpoint refuses every request the way some authorization
// servers do (Spring's among them): quoting the value it refused.
func echoingTokenEndpoint(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		desc := "Invalid refresh token: " + r.PostForm.Get("refresh_token")
		if r.PostForm.Get("grant_type") == "authorization_code" {
			desc = "Invalid authorization code: " + r.PostForm.Get("code") + " (verifier " + r.PostForm.Get("code_verifier") + ")"
		}
		desc += " client_secret " + r.PostForm.Get("client_secret")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": desc})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func genericConfig(tokenURL string) provider.Config {
	return provider.Config{Provider: provider.Generic, ClientID: "client-1", ClientSecret: "s3cr3t-client-value",
		TokenEndpoint: tokenURL, TokenScope: "mail"}
}

func TestRefusedRefreshDoesNotQuoteTheRefreshToken(t *testing.T) {
	srv := echoingTokenEndpoint(t)
	st := newStore(t, t.TempDir())
	const rt = "rt-7f3a9c1e5b2d4a6f8e0c"
	now := time.Now()
	if err := SaveToken(st, "a", &Token{AccessToken: "at-old", RefreshToken: rt, Expiry: now.Add(-time.Minute), ObtainedAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, err := NewSource(st, "a", genericConfig(srv.URL), SourceOptions{}).AccessToken(context.Background())
	var re *ReauthError
	if !errors.As(err, &re) {
		t.Fatalf("want a sign-in-needed error, got %v", err)
	}
	stored, lerr := LoadToken(st, "a")
	if lerr != nil {
		t.Fatal(lerr)
	}
	for what, text := range map[string]string{"error": err.Error(), "stored reason": stored.SignInNeeded} {
		if strings.Contains(text, rt) || strings.Contains(text, "s3cr3t-client-value") {
			t.Errorf("%s quotes a secret: %s", what, text)
		}
		if !strings.Contains(text, "Invalid refresh token") {
			t.Errorf("%s lost the server's words: %s", what, text)
		}
	}
}

func TestRefusedCodeExchangeDoesNotQuoteCodeOrVerifier(t *testing.T) {
	srv := echoingTokenEndpoint(t)
	opts := &LoginOptions{Config: genericConfig(srv.URL)}
	const code, verifier = "code-4b1d9e77c0a2", "verifier-0c9e8d7f6a5b4c3d2e1f"
	_, err := exchange(context.Background(), opts, code, "http://127.0.0.1:1/", verifier)
	if err == nil {
		t.Fatal("the refused exchange succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, code) || strings.Contains(msg, verifier) || strings.Contains(msg, "s3cr3t-client-value") {
		t.Fatalf("error quotes a secret: %s", msg)
	}
}
