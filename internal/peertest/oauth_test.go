package peertest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// These tests put bluemoon's own sign-in (internal/oauth: PKCE, state, loopback listener, token
// store, refreshing token source) in front of the real OAuth server, and its own transport in
// front of the real SMTP server that checks the tokens.

// ownConfig is the credential a generic-provider account would carry for oidc-provider.
func ownConfig(d discovery, clientID string) provider.Config {
	return provider.Config{
		Provider:       provider.Generic,
		ClientID:       clientID,
		AuthEndpoint:   d.Authorization,
		AuthScope:      mailScope,
		TokenEndpoint:  d.Token,
		TokenScope:     mailScope,
		RedirectURI:    "http://127.0.0.1",
		RevokeEndpoint: d.Revocation,
		UserinfoURL:    d.Userinfo,
	}
}

// ownSignIn signs user in with bluemoon's loopback sign-in, the test's browser standing in for
// the person: bluemoon "opens" the authorization URL, the browser logs in and consents at
// oidc-provider and follows the redirect to bluemoon's loopback listener.
func ownSignIn(t *testing.T, st *secrets.Store, acct string, cfg provider.Config, user string) *oauth.LoginResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type visited struct {
		status int
		page   string
		err    error
	}
	done := make(chan visited, 1)
	opened := 0
	res, err := oauth.Login(ctx, oauth.LoginOptions{
		Account: acct, Config: cfg, Mode: oauth.ModeBrowser, Store: st, Expected: user,
		Timeout: time.Minute,
		OpenBrowser: func(authURL string) error {
			opened++
			if u, _ := url.Parse(authURL); u.Query().Get("code_challenge_method") != "S256" || u.Query().Get("state") == "" {
				t.Errorf("authorization URL without PKCE S256 or state: %s", authURL)
			}
			// The browser runs beside the sign-in, as a real one would: bluemoon answers the
			// loopback request only after it has redeemed the code.
			go func() {
				b := newBrowser(t, env.Issuer, user)
				back, err := b.authorize(ctx, authURL)
				if err != nil {
					done <- visited{err: err}
					return
				}
				status, page, err := b.visit(ctx, back)
				done <- visited{status, page, err}
			}()
			return nil
		},
	})
	if err != nil {
		t.Fatalf("bluemoon sign-in as %s at oidc-provider: %v", user, err)
	}
	if opened != 1 {
		t.Fatalf("the browser was opened %d times, want 1", opened)
	}
	v := <-done
	if v.err != nil || v.status != http.StatusOK {
		t.Fatalf("the browser's visit to bluemoon's loopback page: HTTP %d, %v: %s", v.status, v.err, firstText(v.page))
	}
	if !res.HasRefreshToken {
		t.Fatal("sign-in stored no refresh token")
	}
	if res.Identity != user || res.Mismatch {
		t.Errorf("sign-in identity %q (mismatch %v), want %q", res.Identity, res.Mismatch, user)
	}
	return res
}

func openStore(t *testing.T, home string) *secrets.Store {
	t.Helper()
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The whole path as a user meets it: sign in through the browser, then send over STARTTLS and
// implicit TLS with the access token the token source hands out.
func TestOwnSignInThenSend(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	user := "own-" + uniqueID() + "@bluemoon.test"
	st := openStore(t, t.TempDir())
	cfg := ownConfig(d, clientPublic)
	ownSignIn(t, st, "own", cfg, user)
	src := oauth.NewSource(st, "own", cfg, oauth.SourceOptions{})
	for _, s := range securities(p) {
		t.Run(s.name, func(t *testing.T) {
			tc := peerConfig(t, s.addr, s.sec, account.AuthXOAuth2)
			tc.Username, tc.Tokens = user, src
			c, err := dial(t, tc)
			if err != nil {
				t.Fatalf("dial Dovecot with bluemoon's token source: %v", err)
			}
			sendAndCheck(t, c, user, "own-rcpt@bluemoon.test", "utf-8")
		})
	}
	tok, err := oauth.LoadToken(st, "own")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Refreshes != 0 {
		t.Errorf("a fresh one-hour token was refreshed %d times", tok.Refreshes)
	}
}

// An access token that expired (the OAuth server's clock is the one that counts): bluemoon
// refreshes it before connecting, stores the rotated refresh token, and Dovecot takes the new
// access token. With a client clock running late, bluemoon still hands out the expired token;
// Dovecot refuses it and the transport's forced refresh recovers on a new connection.
func TestOwnExpiredTokenRefreshedAtReconnect(t *testing.T) {
	p := needPeers(t)
	t.Parallel() // mostly waiting for tokens to expire
	d := discover(t, p.Issuer)
	for _, tc := range []struct {
		name string
		skew time.Duration
	}{
		{"refreshed before connecting", 0},
		{"refused, then refreshed", -time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			user := "own-expired-" + uniqueID() + "@bluemoon.test"
			st := openStore(t, t.TempDir())
			cfg := ownConfig(d, clientShort)
			ownSignIn(t, st, "short", cfg, user)
			before, err := oauth.LoadToken(st, "short")
			if err != nil {
				t.Fatal(err)
			}
			if life := before.Expiry.Sub(before.ObtainedAt); life > time.Minute {
				t.Fatalf("client %s got a token for %v; the short TTL is not configured", clientShort, life)
			}
			time.Sleep(time.Until(before.Expiry) + 1500*time.Millisecond)

			src := oauth.NewSource(st, "short", cfg, oauth.SourceOptions{
				Now: func() time.Time { return time.Now().Add(tc.skew) },
			})
			conf := peerConfig(t, p.Submission, account.SecurityStartTLS, account.AuthXOAuth2)
			conf.Username, conf.Tokens = user, src
			c, err := dial(t, conf)
			if err != nil {
				t.Fatalf("dial after the access token expired: %v", err)
			}
			sendAndCheck(t, c, user, "own-after-refresh@bluemoon.test", "utf-8")
			after, err := oauth.LoadToken(st, "short")
			if err != nil {
				t.Fatal(err)
			}
			if after.Refreshes != 1 {
				t.Errorf("refreshed %d times, want 1", after.Refreshes)
			}
			if after.RefreshToken == before.RefreshToken || after.AccessToken == before.AccessToken {
				t.Error("the stored tokens did not change: the rotated refresh token was not saved")
			}
		})
	}
}

// Rotation punishes a client that loses a rotated refresh token: oidc-provider refuses the old
// one with invalid_grant and revokes the whole grant. bluemoon must then say that a person has
// to sign in (exit code 4), both from the token source and from a connection attempt, whose
// error is also an authentication failure.
func TestOwnReusedRefreshTokenNeedsSignIn(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	user := "own-reuse-" + uniqueID() + "@bluemoon.test"
	st := openStore(t, t.TempDir())
	cfg := ownConfig(d, clientPublic)
	ownSignIn(t, st, "reuse", cfg, user)
	first, err := oauth.LoadToken(st, "reuse")
	if err != nil {
		t.Fatal(err)
	}
	src := oauth.NewSource(st, "reuse", cfg, oauth.SourceOptions{})
	ctx := context.Background()
	if _, err := src.Refresh(ctx); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	second, _ := oauth.LoadToken(st, "reuse")
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("oidc-provider did not rotate the refresh token")
	}

	// Someone replays the first refresh token (a copy of an old token file, say).
	_, err = rawRefresh(ctx, rawConfig(d, clientPublic), first.RefreshToken)
	if !isInvalidGrant(err) {
		t.Fatalf("re-using a rotated refresh token: %v, want invalid_grant", err)
	}

	// The grant is gone: the current access token no longer opens Dovecot and refreshing fails.
	conf := peerConfig(t, p.Submission, account.SecurityStartTLS, account.AuthXOAuth2)
	conf.Username, conf.Tokens = user, src
	_, err = dial(t, conf)
	authError(t, err)
	var reauth interface {
		NeedsSignIn() bool
		ExitCode() int
	}
	if !errors.As(err, &reauth) || !reauth.NeedsSignIn() || reauth.ExitCode() != exitcode.SignIn {
		t.Fatalf("want the connection error to say a sign-in is needed (exit code %d), got %v", exitcode.SignIn, err)
	}
	if !strings.Contains(err.Error(), "bluemoon login reuse") {
		t.Errorf("error does not tell how to sign in again: %v", err)
	}
	for _, secret := range []string{first.RefreshToken, second.RefreshToken, second.AccessToken} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a token: %v", err)
		}
	}
	// And it stays that way without another trip to the server.
	if _, err := src.AccessToken(ctx); !errors.As(err, &reauth) {
		t.Errorf("after the refusal AccessToken gives %v, want the sign-in-needed error", err)
	}
}

// Two bluemoon processes (two token sources over the same data home) whose connections were
// both refused force a refresh at the same moment. With rotation, a naive client would send the
// same refresh token twice and lose the grant; bluemoon's lock and re-read must leave one
// refresh and a grant that still works.
func TestOwnConcurrentRefreshKeepsGrant(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	user := "own-race-" + uniqueID() + "@bluemoon.test"
	home := t.TempDir()
	cfg := ownConfig(d, clientPublic)
	ownSignIn(t, openStore(t, home), "race", cfg, user)

	ctx := context.Background()
	var srcs []*oauth.Source
	for range 2 {
		s := oauth.NewSource(openStore(t, home), "race", cfg, oauth.SourceOptions{})
		if _, err := s.AccessToken(ctx); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(srcs))
	for i, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Refresh(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d's refresh: %v", i+1, err)
		}
	}
	tok, err := oauth.LoadToken(openStore(t, home), "race")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Refreshes != 1 {
		t.Errorf("the two processes refreshed %d times, want 1 (the second takes the first's token)", tok.Refreshes)
	}
	// The grant survived: both processes' tokens open Dovecot, and a later refresh works.
	for i, s := range srcs {
		conf := peerConfig(t, p.Submission, account.SecurityStartTLS, account.AuthXOAuth2)
		conf.Username, conf.Tokens = user, s
		c, err := dial(t, conf)
		if err != nil {
			t.Fatalf("process %d after the concurrent refresh: %v", i+1, err)
		}
		sendAndCheck(t, c, user, "race-rcpt@bluemoon.test", "utf-8")
	}
	if _, err := srcs[0].Refresh(ctx); err != nil {
		t.Fatalf("refresh after the race: %v (the grant was lost)", err)
	}
}

// A Google-like confidential desktop client: bluemoon's Google path (client secret in the token
// requests, prompt=consent and access_type=offline, refresh without a scope) against the real
// server, which refuses the client when the secret is missing or wrong.
func TestOwnGoogleStyleClientWithSecret(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	user := "own-google-" + uniqueID() + "@bluemoon.test"
	st := openStore(t, t.TempDir())
	cfg := ownConfig(d, "bluemoon-secret")
	cfg.Provider, cfg.ClientSecret = provider.Google, "bluemoon-client-secret"
	ownSignIn(t, st, "google-like", cfg, user)
	src := oauth.NewSource(st, "google-like", cfg, oauth.SourceOptions{})
	if _, err := src.Refresh(context.Background()); err != nil {
		t.Fatalf("refresh with the client secret: %v", err)
	}
	tc := peerConfig(t, p.Submissions, account.SecurityTLS, account.AuthXOAuth2)
	tc.Username, tc.Tokens = user, src
	c, err := dial(t, tc)
	if err != nil {
		t.Fatalf("dial with the Google-like client's token: %v", err)
	}
	sendAndCheck(t, c, user, "google-like-rcpt@bluemoon.test", "utf-8")

	// The same stored sign-in with a wrong secret: the token endpoint refuses the client. That
	// is the credential file's fault, not the user's: no sign-in would cure it.
	bad := cfg
	bad.ClientSecret = "not-the-secret"
	_, err = oauth.NewSource(st, "google-like", bad, oauth.SourceOptions{}).Refresh(context.Background())
	if err == nil {
		t.Fatal("refresh with a wrong client secret succeeded")
	}
	t.Logf("what the user reads: %v", err)
	var ns interface{ NeedsSignIn() bool }
	if errors.As(err, &ns) && ns.NeedsSignIn() {
		t.Errorf("a wrong client secret is reported as needing a sign-in, which cannot cure it: %v", err)
	}
	if strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), "bluemoon-client-secret") {
		t.Errorf("error shows the client secret: %v", err)
	}
}
