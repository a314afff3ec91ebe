package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

func signIn(t *testing.T, srv *oauthsrv.Server, st *secrets.Store, account string) {
	t.Helper()
	run := startLogin(t, context.Background(), LoginOptions{Account: account, Config: srv.Config(""), Store: st})
	if _, err := (&oauthsrv.Browser{}).SignIn(context.Background(), run.url); err != nil {
		t.Fatal(err)
	}
	if _, err := run.wait(t); err != nil {
		t.Fatal(err)
	}
}

func TestMicrosoftRotationPersistsAcrossRestart(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	home := t.TempDir()
	st := newStore(t, home)
	signIn(t, srv, st, "a")
	first, _ := LoadToken(st, "a")
	ctx := context.Background()

	// Refresh (the server refuses it without scope, so success proves the scope was sent).
	src := NewSource(st, "a", srv.Config(""), SourceOptions{})
	at, err := src.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := LoadToken(st, "a")
	if stored.RefreshToken == first.RefreshToken || stored.AccessToken != at || stored.Refreshes != 1 {
		t.Fatal("the rotated refresh token was not saved with the new access token")
	}

	// A new process (new store, new source) continues with the rotated token.
	st2, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	src2 := NewSource(st2, "a", srv.Config(""), SourceOptions{})
	at2, err := src2.Refresh(ctx)
	if err != nil {
		t.Fatalf("refresh after restart: %v", err)
	}
	if _, _, err := srv.ValidateAccessToken(at2); err != nil {
		t.Fatal(err)
	}
	if srv.ActiveGrants("user@example.com") != 1 || srv.RefreshCount() != 2 {
		t.Fatalf("grants %d refreshes %d", srv.ActiveGrants("user@example.com"), srv.RefreshCount())
	}
	// Presenting the first, rotated-out refresh token (what a client that
	// lost the rotation would do) kills the grant: that is what the
	// persistence above prevents.
	stale := *first
	stale.AccessToken = ""
	SaveToken(st, "b", &stale)
	_, err = NewSource(st, "b", srv.Config(""), SourceOptions{}).AccessToken(ctx)
	var re *ReauthError
	if !errors.As(err, &re) || re.Reason != ReasonReused || srv.ActiveGrants("user@example.com") != 0 {
		t.Fatalf("reuse not punished: %v", err)
	}
}

func TestGoogleKeepsItsRefreshToken(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Google})
	st := newStore(t, t.TempDir())
	signIn(t, srv, st, "g")
	before, _ := LoadToken(st, "g")
	src := NewSource(st, "g", srv.Config(""), SourceOptions{})
	for i := 0; i < 3; i++ {
		if _, err := src.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := LoadToken(st, "g")
	if after.RefreshToken != before.RefreshToken || after.Refreshes != 3 || after.Identity != "user@example.com" {
		t.Fatalf("before %v after %v", before, after)
	}
}

func TestExpiredAccessTokenIsRefreshedBeforeUse(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	st := newStore(t, t.TempDir())
	signIn(t, srv, st, "a")
	old, _ := LoadToken(st, "a")
	now := time.Now()
	src := NewSource(st, "a", srv.Config(""), SourceOptions{Now: func() time.Time { return now }})
	got, err := src.AccessToken(context.Background())
	if err != nil || got != old.AccessToken || srv.RefreshCount() != 0 {
		t.Fatalf("a fresh token was not used as is: %v refreshes=%d", err, srv.RefreshCount())
	}
	// 55 minutes later the 1-hour token has less than the 10-minute margin.
	now = now.Add(55 * time.Minute)
	srv.Advance(61 * time.Minute)
	if _, _, err := srv.ValidateAccessToken(old.AccessToken); err == nil {
		t.Fatal("the server still accepts the old token")
	}
	got, err = src.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got == old.AccessToken || srv.RefreshCount() != 1 {
		t.Fatal("the token was not refreshed")
	}
	if _, _, err := srv.ValidateAccessToken(got); err != nil {
		t.Fatal(err)
	}
}

func TestGoroutinesShareOneRefresh(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	st := newStore(t, t.TempDir())
	signIn(t, srv, st, "a")
	srv.ExpireAccessTokens()
	src := NewSource(st, "a", srv.Config(""), SourceOptions{})
	old, _ := src.AccessToken(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each connection saw the server refuse the token and asks for a
			// new one; those that ask after the first got it are given it.
			tok, err := src.RefreshRefused(context.Background(), old)
			if err == nil {
				_, _, err = srv.ValidateAccessToken(tok)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.RefreshCount(); n != 1 {
		t.Fatalf("%d refreshes for 20 goroutines that failed with the same token, want 1", n)
	}
}

func TestTwoStoresRefreshingAtOnceKeepTheGrant(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	home := t.TempDir()
	st := newStore(t, home)
	signIn(t, srv, st, "a")
	srv.ExpireAccessTokens()
	var wg sync.WaitGroup
	tokens := make([]string, 4)
	errs := make([]error, 4)
	for i := range tokens {
		st, err := secrets.Open(home) // as a separate process would
		if err != nil {
			t.Fatal(err)
		}
		src := NewSource(st, "a", srv.Config(""), SourceOptions{})
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tokens[i], errs[i] = src.Refresh(context.Background())
		}(i)
	}
	wg.Wait()
	for i := range tokens {
		if errs[i] != nil {
			t.Fatalf("source %d: %v", i, errs[i])
		}
		if _, _, err := srv.ValidateAccessToken(tokens[i]); err != nil {
			t.Fatalf("source %d: %v", i, err)
		}
	}
	if srv.ActiveGrants("user@example.com") != 1 {
		t.Fatal("the grant was revoked: a rotated refresh token was re-used")
	}
}

func TestRevokedGrantNeedsSignIn(t *testing.T) {
	for _, flavor := range []provider.Kind{provider.Microsoft, provider.Google} {
		t.Run(string(flavor), func(t *testing.T) {
			srv := newServer(t, oauthsrv.Options{Flavor: flavor})
			st := newStore(t, t.TempDir())
			signIn(t, srv, st, "a")
			tok, _ := LoadToken(st, "a")
			srv.RevokeUser("user@example.com")
			src := NewSource(st, "a", srv.Config(""), SourceOptions{})
			_, err := src.Refresh(context.Background())
			var re *ReauthError
			if !errors.As(err, &re) || !re.NeedsSignIn() || exitcode.For(err) != 4 {
				t.Fatalf("want ReauthError exit 4, got %v", err)
			}
			msg := err.Error()
			if flavor == provider.Google && !strings.Contains(msg, "7 days") {
				t.Fatalf("Google message does not mention the Testing limit: %s", msg)
			}
			if flavor == provider.Microsoft && !strings.Contains(msg, "password") {
				t.Fatalf("Microsoft message does not explain 50173: %s", msg)
			}
			if strings.Contains(msg, tok.RefreshToken) || strings.Contains(msg, tok.AccessToken) {
				t.Fatal("token in the error")
			}
			// Recorded: the next call does not even ask the server.
			n := srv.RefreshCount()
			if _, err := src.AccessToken(context.Background()); !errors.As(err, &re) || srv.RefreshCount() != n {
				t.Fatalf("second call: %v", err)
			}
			stored, _ := LoadToken(st, "a")
			if stored.SignInNeeded == "" {
				t.Fatal("refusal not recorded")
			}
		})
	}
}

func TestNoTokensNeedsSignIn(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{})
	_, err := NewSource(newStore(t, t.TempDir()), "nobody", srv.Config(""), SourceOptions{}).AccessToken(context.Background())
	var re *ReauthError
	if !errors.As(err, &re) || re.Reason != ReasonNoTokens || !strings.Contains(err.Error(), "bluemoon login nobody") {
		t.Fatalf("got %v", err)
	}
}

func TestMicrosoftErrorsTranslated(t *testing.T) {
	cases := []struct {
		code   string
		reauth bool
		words  string
	}{
		{"700082", true, "90 days"},
		{"50173", true, "password"},
		{"50076", true, "multi-factor"},
		{"50078", true, "multi-factor"},
		{"70043", true, "sign-in frequency"},
		{"65001", true, "admin consent"},
		{"50194", false, "single-tenant"},
		{"7000218", false, "Allow public client flows"},
		{"700025", false, "public client"},
		{"900144", false, "token_scope"},
	}
	srv := newServer(t, oauthsrv.Options{})
	st := newStore(t, t.TempDir())
	signIn(t, srv, st, "a")
	good, _ := LoadToken(st, "a")
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			SaveToken(st, "a", good)
			srv.FailRefresh(c.code)
			defer srv.FailRefresh("")
			_, err := NewSource(st, "a", srv.Config(""), SourceOptions{}).Refresh(context.Background())
			var re *ReauthError
			if errors.As(err, &re) != c.reauth {
				t.Fatalf("reauth=%v for %v", !c.reauth, err)
			}
			if !c.reauth && exitcode.For(err) != exitcode.Usage {
				t.Fatalf("exit %d for a configuration error", exitcode.For(err))
			}
			if !strings.Contains(err.Error(), c.words) || !strings.Contains(err.Error(), "AADSTS"+c.code) {
				t.Fatalf("message %q lacks %q", err, c.words)
			}
		})
	}
}

func TestTokenPrintsNoSecrets(t *testing.T) {
	tok := Token{AccessToken: "at-secret", RefreshToken: "rt-secret", Identity: "a@b"}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, &tok)} {
		if strings.Contains(s, "secret") {
			t.Fatalf("printed: %s", s)
		}
	}
}

// BenchmarkAccessTokenCached measures the hot path a delivery takes before
// every SMTP connection: a valid token in memory, no lock, no disk, no
// network.
func BenchmarkAccessTokenCached(b *testing.B) {
	srv, err := oauthsrv.New(oauthsrv.Options{AutoApprove: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	b.Setenv(secrets.KeyringEnv, "off")
	st, err := secrets.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	SaveToken(st, "a", &Token{AccessToken: "x", RefreshToken: "y", Expiry: now.Add(time.Hour), ObtainedAt: now})
	src := NewSource(st, "a", srv.Config(""), SourceOptions{})
	ctx := context.Background()
	if _, err := src.AccessToken(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := src.AccessToken(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A generic OAuth server gets no scope on refresh (RFC 6749 §6: the grant's
// own scope), since oidc-provider, for one, refuses offline_access there
// unless the sign-in asked with prompt=consent.
func TestGenericRefreshSendsNoScope(t *testing.T) {
	var got url.Values
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}`)
	}))
	defer ts.Close()
	st := newStore(t, t.TempDir())
	cfg := provider.Config{Provider: provider.Generic, ClientID: "c", TokenEndpoint: ts.URL, TokenScope: "mail offline_access"}
	now := time.Now()
	if err := SaveToken(st, "g", &Token{AccessToken: "at-1", RefreshToken: "rt-1", Expiry: now, Provider: provider.Generic, ObtainedAt: now}); err != nil {
		t.Fatal(err)
	}
	at, err := NewSource(st, "g", cfg, SourceOptions{}).AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if at != "at-2" || got.Get("grant_type") != "refresh_token" || got.Get("refresh_token") != "rt-1" {
		t.Fatalf("refresh went wrong: token %q, form %v", at, got)
	}
	if got.Has("scope") {
		t.Fatalf("a generic refresh sent scope %q", got.Get("scope"))
	}
}

// breakAfterTransport passes requests through and, while armed, makes the
// home's secrets folder unwritable (a regular file in its place) once the
// token endpoint has answered: the save after a successful refresh fails.
type breakAfterTransport struct {
	home  string
	armed bool
}

func (b *breakAfterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && b.armed {
		dir := filepath.Join(b.home, "secrets")
		if rerr := os.Rename(dir, dir+".away"); rerr != nil {
			return nil, rerr
		}
		if werr := os.WriteFile(dir, nil, 0o600); werr != nil {
			return nil, werr
		}
	}
	return resp, err
}

func (b *breakAfterTransport) repair(t *testing.T) {
	t.Helper()
	dir := filepath.Join(b.home, "secrets")
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir+".away", dir); err != nil {
		t.Fatal(err)
	}
	b.armed = false
}

func TestRotatedTokenKeptWhenSavingFails(t *testing.T) {
	srv := newServer(t, oauthsrv.Options{Flavor: provider.Microsoft})
	home := t.TempDir()
	st := newStore(t, home)
	signIn(t, srv, st, "a")
	first, _ := LoadToken(st, "a")
	ctx := context.Background()

	tr := &breakAfterTransport{home: home, armed: true}
	src := NewSource(st, "a", srv.Config(""), SourceOptions{HTTPClient: &http.Client{Transport: tr}})
	if _, err := src.Refresh(ctx); err == nil || !strings.Contains(err.Error(), "saving the refreshed sign-in") {
		t.Fatalf("a failed save was not reported: %v", err)
	}
	if srv.RefreshCount() != 1 {
		t.Fatalf("refreshes %d, want 1", srv.RefreshCount())
	}
	tr.repair(t)
	if disk, _ := LoadToken(st, "a"); disk.RefreshToken != first.RefreshToken {
		t.Fatal("the test did not stop the save")
	}

	// The server has spent the first refresh token. The next call must use
	// the rotated one kept in memory (presenting the spent one would revoke
	// the grant) and write it to disk.
	at, err := src.AccessToken(ctx)
	if err != nil {
		t.Fatalf("after the disk recovered: %v", err)
	}
	if _, _, err := srv.ValidateAccessToken(at); err != nil {
		t.Fatalf("handed-out token: %v", err)
	}
	disk, _ := LoadToken(st, "a")
	if disk.RefreshToken == first.RefreshToken || disk.AccessToken != at {
		t.Fatal("the rotated refresh token was not saved once the disk recovered")
	}
	// A new process carries on with what is on disk.
	st2, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSource(st2, "a", srv.Config(""), SourceOptions{}).Refresh(ctx); err != nil {
		t.Fatalf("refresh with the saved token: %v", err)
	}
	if srv.ActiveGrants("user@example.com") != 1 || srv.RefreshCount() != 2 {
		t.Fatalf("grants %d refreshes %d, want 1 and 2", srv.ActiveGrants("user@example.com"), srv.RefreshCount())
	}
}
