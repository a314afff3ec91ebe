package oauth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
)

func signInWith(t *testing.T, srv *oauthsrv.Server, cfg provider.Config, account string) *Source {
	t.Helper()
	st := newStore(t, t.TempDir())
	run := startLogin(t, context.Background(), LoginOptions{Account: account, Config: cfg, Store: st})
	if _, err := (&oauthsrv.Browser{}).SignIn(context.Background(), run.url); err != nil {
		t.Fatal(err)
	}
	if _, err := run.wait(t); err != nil {
		t.Fatal(err)
	}
	return NewSource(st, account, cfg, SourceOptions{})
}

// One Microsoft sign-in serves two resources: the Graph source redeems the
// refresh token for a Mail.Send token, saves the rotated refresh token, and
// leaves the SMTP.Send token alone; the SMTP source then refreshes with the
// rotated token, not the spent one (which would kill the grant).
func TestResourceTokenSharesTheRotatingGrant(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	cfg := srv.Config("")
	smtp := signInWith(t, srv, cfg.WithAPIScope(), "a")
	ctx := context.Background()
	first, _ := LoadToken(smtp.store, "a")

	_, scope := cfg.API()
	graph := NewSource(smtp.store, "a", cfg, SourceOptions{Scope: scope})
	tok, err := graph.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, scopes, err := srv.ValidateAccessToken(tok); err != nil || strings.Join(scopes, " ") != "https://graph.microsoft.com/Mail.Send" {
		t.Fatalf("Graph token scopes %v (%v)", scopes, err)
	}
	if srv.LastRefreshScope() != provider.GraphScope {
		t.Fatalf("refresh asked for %q, want %q", srv.LastRefreshScope(), provider.GraphScope)
	}
	stored, _ := LoadToken(smtp.store, "a")
	if stored.RefreshToken == first.RefreshToken || stored.AccessToken != first.AccessToken || stored.Resources[scope].AccessToken != tok {
		t.Fatal("the rotation was not saved, or the SMTP token was replaced")
	}
	if again, _ := graph.AccessToken(ctx); again != tok || srv.RefreshCount() != 1 {
		t.Fatal("a fresh Graph token was not reused")
	}

	// Both sources refresh at once (two workers, two resources): each
	// waits for the other under the lock and uses the rotated token.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*Source{smtp, graph} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Refresh(ctx)
		}()
	}
	wg.Wait()
	if errors.Join(errs...) != nil || srv.ActiveGrants("user@example.com") != 1 || srv.RefreshCount() != 3 {
		t.Fatalf("refreshing both: %v; grants %d, refreshes %d", errors.Join(errs...), srv.ActiveGrants("user@example.com"), srv.RefreshCount())
	}
	at, _ := smtp.AccessToken(ctx)
	if _, scopes, _ := srv.ValidateAccessToken(at); strings.Join(scopes, " ") != "https://outlook.office.com/SMTP.Send" {
		t.Fatalf("SMTP token scopes %v", scopes)
	}
}

// A sign-in that did not consent to Graph's Mail.Send: the refresh for it
// fails with AADSTS65001, and the error names the permission.
func TestMissingConsentNamesTheScope(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	cfg := srv.Config("")
	smtp := signInWith(t, srv, cfg, "a") // SMTP.Send only
	_, scope := cfg.API()
	_, err := NewSource(smtp.store, "a", cfg, SourceOptions{Scope: scope}).AccessToken(context.Background())
	var re *ReauthError
	if !errors.As(err, &re) || re.Reason != ReasonConsent ||
		!strings.Contains(err.Error(), "Mail.Send (https://graph.microsoft.com/Mail.Send)") || !strings.Contains(err.Error(), "AADSTS65001") {
		t.Fatalf("%v", err)
	}
	if strings.Contains(err.Error(), "SMTP.Send") {
		t.Errorf("the error blames SMTP.Send: %v", err)
	}
}
