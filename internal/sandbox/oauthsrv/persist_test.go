package oauthsrv

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// A client signed in before a restart refreshes after it, its access token
// still works, and a rotated-out refresh token is still caught as a replay.
func TestStateFileKeepsSignInsAcrossRestarts(t *testing.T) {
	state := filepath.Join(t.TempDir(), "oauth", "microsoft.json")
	s := start(t, Options{Flavor: provider.Microsoft, StateFile: state})
	c := s.Config("")
	_, m := post(t, c.TokenEndpoint, url.Values{"client_id": {c.ClientID}, "grant_type": {"authorization_code"}, "code": {code(t, s, "", nil)},
		"redirect_uri": {"http://127.0.0.1:5555"}, "code_verifier": {verifier}})
	rt1, _ := m["refresh_token"].(string)
	at1, _ := m["access_token"].(string)
	if rt1 == "" || at1 == "" {
		t.Fatalf("exchange: %v", m)
	}
	st, m := post(t, c.TokenEndpoint, url.Values{"client_id": {c.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt1}, "scope": {c.TokenScope}})
	rt2, _ := m["refresh_token"].(string)
	if st != 200 || rt2 == "" {
		t.Fatalf("refresh: %d %v", st, m)
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	s.Close()

	s2 := start(t, Options{Flavor: provider.Microsoft, StateFile: state})
	c2 := s2.Config("")
	if sub, _, err := s2.ValidateAccessToken(at1); err != nil || sub != "user@example.com" {
		t.Fatalf("an access token issued before the restart: %q %v", sub, err)
	}
	st, m = post(t, c2.TokenEndpoint, url.Values{"client_id": {c2.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt2}, "scope": {c2.TokenScope}})
	rt3, _ := m["refresh_token"].(string)
	if st != 200 || rt3 == "" {
		t.Fatalf("refresh after the restart: %d %v", st, m)
	}
	st, m = post(t, c2.TokenEndpoint, url.Values{"client_id": {c2.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt1}, "scope": {c2.TokenScope}})
	if st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("a rotated-out token replayed after the restart: %d %v", st, m)
	}
	s2.Close()
	s3 := start(t, Options{Flavor: provider.Microsoft, StateFile: state})
	if n := s3.ActiveGrants("user@example.com"); n != 0 {
		t.Fatalf("the replay's revocation was not kept: %d active grants", n)
	}
}
