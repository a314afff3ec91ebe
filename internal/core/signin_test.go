package core

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// oauthService is a Service with account "work" (from) signing in with
// OAuth at an in-process stand-in of flavor's authorization server.
func oauthService(t *testing.T, flavor provider.Kind, from string) (*Service, *oauthsrv.Server) {
	t.Helper()
	srv, err := oauthsrv.New(oauthsrv.Options{Flavor: flavor, Email: from})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	svc := newService(t, Options{OpenBrowser: func(string) error { t.Error("a browser was opened"); return nil }})
	ctx := context.Background()
	cs, err := svc.credentials()
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Import(ctx, "org", srv.Config(""), credstore.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddAccount(ctx, "work", AccountInput{From: Ptr(from), Credentials: Ptr("org"),
		SMTPHost: Ptr("127.0.0.1"), SMTPPort: Ptr(587)}); err != nil {
		t.Fatal(err)
	}
	return svc, srv
}

// poll waits for the sign-in the way a web page would: asking again and
// again whether it has finished.
func poll(t *testing.T, sig *SignIn) (*SignInResult, error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err, done := sig.Result(); done {
			return res, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the sign-in did not finish")
	return nil, nil
}

func TestStartSignInReturnsAtOnceAndFinishesInTheBackground(t *testing.T) {
	svc, srv := oauthService(t, provider.Microsoft, "alice@contoso.example")
	ctx := context.Background()
	before, _ := svc.Account(ctx, "work")
	if before.Kind != AuthMicrosoft || before.SignIn.Health != HealthSignIn || before.SignIn.Reason != ReasonNoTokens {
		t.Fatalf("before sign-in: kind %s, state %+v", before.Kind, before.SignIn)
	}
	sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(sig.Prompt.URL)
	if err != nil || u.Query().Get("code_challenge_method") != "S256" || u.Query().Get("login_hint") != "alice@contoso.example" {
		t.Fatalf("authorization URL %q", sig.Prompt.URL)
	}
	if _, err, done := sig.Result(); done {
		t.Fatalf("finished before anyone signed in: %v", err)
	}
	if svc.PendingSignIn("work") != sig {
		t.Fatal("the pending sign-in is not found")
	}
	var busy *BusyError
	if _, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink}); !errors.As(err, &busy) || busy.Kind != KindSignIn || exitcode.For(err) != 2 {
		t.Fatalf("a second sign-in of the account: %v", err)
	}
	// The test is the browser: it follows the URL, consents, and is sent
	// back to the loopback listener.
	land, err := (&oauthsrv.Browser{}).SignIn(ctx, sig.Prompt.URL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := poll(t, sig)
	if err != nil {
		t.Fatal(err)
	}
	if res.Identity != "alice@contoso.example" || res.Mismatch || res.NoRefreshToken || !strings.Contains(land.Body, "Signed in") {
		t.Fatalf("result %+v, landing %s", res, land.Body)
	}
	if svc.PendingSignIn("work") != nil {
		t.Fatal("a finished sign-in is still pending")
	}
	after, err := svc.Account(ctx, "work")
	if err != nil || after.SignIn.Health != HealthOK || after.SignIn.Identity != "alice@contoso.example" || after.SignIn.AccessExpires.IsZero() {
		t.Fatalf("after sign-in %+v %v", after.SignIn, err)
	}
	if err := svc.CheckSignIn(ctx, "work", nil); err != nil || srv.RefreshCount() != 0 {
		t.Fatalf("a fresh sign-in needs no refresh: %v, %d refreshes", err, srv.RefreshCount())
	}

	// The password is changed: the refresh is refused, and the state says
	// why in a word a console can translate.
	srv.RevokeUser("alice@contoso.example")
	var re *ReauthError
	if err := svc.RefreshSignIn(ctx, "work", nil); !errors.As(err, &re) || exitcode.For(err) != exitcode.SignIn {
		t.Fatalf("refresh of a revoked grant: %v", err)
	}
	if st, _ := svc.SignInStatus(ctx, "work", false); st.Health != HealthSignIn || st.Reason != "revoked" || !strings.Contains(st.Message, "password") {
		t.Fatalf("after revocation %+v", st)
	}

	out, err := svc.SignOut(ctx, "work")
	if err != nil || !out.HadSignIn || out.Revoked || !errors.Is(out.RevokeErr, ErrNoRevocation) {
		t.Fatalf("sign out %+v %v", out, err)
	}
	if st, _ := svc.SignInStatus(ctx, "work", false); st.Health != HealthSignIn || st.Reason != ReasonNoTokens {
		t.Fatalf("after sign out %+v", st)
	}
}

func TestSignInOutcomesAConsoleShows(t *testing.T) {
	ctx := context.Background()
	t.Run("another user", func(t *testing.T) {
		svc, _ := oauthService(t, provider.Google, "news@example.org")
		sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink})
		if err != nil {
			t.Fatal(err)
		}
		go (&oauthsrv.Browser{Email: "intern@example.org"}).SignIn(ctx, sig.Prompt.URL)
		if res, err := poll(t, sig); err != nil || !res.Mismatch || res.Identity != "intern@example.org" || res.Expected != "news@example.org" {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("consent refused", func(t *testing.T) {
		svc, _ := oauthService(t, provider.Microsoft, "alice@contoso.example")
		sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink})
		if err != nil {
			t.Fatal(err)
		}
		go (&oauthsrv.Browser{Deny: true}).SignIn(ctx, sig.Prompt.URL)
		var denied *AccessDeniedError
		if _, err := poll(t, sig); !errors.As(err, &denied) {
			t.Fatalf("want access denied, got %v", err)
		}
	})
	t.Run("cancelled, then again", func(t *testing.T) {
		svc, _ := oauthService(t, provider.Microsoft, "alice@contoso.example")
		sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink})
		if err != nil {
			t.Fatal(err)
		}
		sig.Cancel()
		if _, err := poll(t, sig); !errors.Is(err, ErrSignInCancelled) {
			t.Fatalf("want cancelled, got %v", err)
		}
		sig, err = svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink})
		if err != nil {
			t.Fatalf("a new sign-in after a cancelled one: %v", err)
		}
		go (&oauthsrv.Browser{}).SignIn(ctx, sig.Prompt.URL)
		if _, err := sig.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		svc, _ := oauthService(t, provider.Microsoft, "alice@contoso.example")
		sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink, Timeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sig.Wait(ctx); !errors.Is(err, ErrSignInTimeout) {
			t.Fatalf("want a timeout, got %v", err)
		}
	})
	t.Run("paste", func(t *testing.T) {
		svc, _ := oauthService(t, provider.Google, "news@example.org")
		sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInPaste})
		if err != nil {
			t.Fatal(err)
		}
		// The browser is on another computer: its redirect goes nowhere;
		// the person pastes the address it ended on.
		redirect, err := (&oauthsrv.Browser{}).Authorize(ctx, sig.Prompt.URL)
		if err != nil {
			t.Fatal(err)
		}
		if err := sig.Paste(redirect.String()); err != nil {
			t.Fatal(err)
		}
		if res, err := sig.Wait(ctx); err != nil || res.Identity != "news@example.org" {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("Close ends a waiting sign-in", func(t *testing.T) {
		svc, _ := oauthService(t, provider.Microsoft, "alice@contoso.example")
		sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink})
		if err != nil {
			t.Fatal(err)
		}
		svc.Close()
		if _, err, done := sig.Result(); !done || !errors.Is(err, ErrSignInCancelled) {
			t.Fatalf("after Close: done %v, %v", done, err)
		}
	})
}

func TestSignInOfAnAccountWithoutOAuth(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	if _, err := svc.AddAccount(ctx, "relay", AccountInput{From: Ptr("a@example.com"), SMTPHost: Ptr("h"), SMTPPort: Ptr(25), Auth: Ptr("none")}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.StartSignIn(ctx, "relay", SignInOptions{}); exitcode.For(err) != 2 || !strings.Contains(err.Error(), "nothing to sign in to") {
		t.Fatalf("%v", err)
	}
	_, err := svc.StartSignIn(ctx, "nobody", SignInOptions{})
	wantNotFound(t, err, KindAccount)
}

// A request to the sign-in's listener with a wrong state (a stray or
// forged link, another program guessing the port) is refused, logged and
// told to the face, but does not end the sign-in: the person's own
// redirect still completes it.
func TestSignInOutlivesAWrongStateRequest(t *testing.T) {
	var logged testbin.Buffer
	srv, err := oauthsrv.New(oauthsrv.Options{Flavor: provider.Google, Email: "news@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	svc := newService(t, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	ctx := context.Background()
	cs, _ := svc.credentials()
	if err := cs.Import(ctx, "org", srv.Config(""), credstore.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddAccount(ctx, "work", AccountInput{From: Ptr("news@example.org"), Credentials: Ptr("org"),
		SMTPHost: Ptr("127.0.0.1"), SMTPPort: Ptr(587)}); err != nil {
		t.Fatal(err)
	}
	refused := make(chan string, 4)
	sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink, OnRefused: func(m string) { refused <- m }})
	if err != nil {
		t.Fatal(err)
	}
	forged := &oauthsrv.Browser{Tamper: func(u *url.URL) {
		q := u.Query()
		q.Set("state", "attacker")
		u.RawQuery = q.Encode()
	}}
	land, err := forged.SignIn(ctx, sig.Prompt.URL)
	if err != nil || land.Status != 400 {
		t.Fatalf("forged redirect: %v, landing %d", err, land.Status)
	}
	select {
	case m := <-refused:
		if !strings.Contains(m, "wrong 'state'") {
			t.Fatalf("refusal note %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the face was not told of the refused request")
	}
	if _, err, done := sig.Result(); done {
		t.Fatalf("a wrong state ended the sign-in: %v", err)
	}
	if !strings.Contains(logged.String(), "wrong 'state'") || !strings.Contains(logged.String(), "account=work") {
		t.Fatalf("not logged: %s", logged.String())
	}
	if _, err := (&oauthsrv.Browser{}).SignIn(ctx, sig.Prompt.URL); err != nil {
		t.Fatal(err)
	}
	if res, err := poll(t, sig); err != nil || res.Identity != "news@example.org" {
		t.Fatalf("the real redirect after a forged one: %+v %v", res, err)
	}
}
