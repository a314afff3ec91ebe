package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// SignInMode is how the person reaches the provider's sign-in page.
type SignInMode = oauth.Mode

const (
	// SignInBrowser opens the system browser (Options.OpenBrowser); a
	// listener on 127.0.0.1 takes the answer.
	SignInBrowser = oauth.ModeBrowser
	// SignInLink only makes the URL (SignIn.Prompt.URL) for the face to
	// show or open itself; a listener on 127.0.0.1 takes the answer. The
	// web console uses it.
	SignInLink = oauth.ModeNoBrowser
	// SignInDevice is Microsoft's device code: Prompt.URL and UserCode are
	// shown, the person signs in on any device.
	SignInDevice = oauth.ModeDevice
	// SignInPaste is for a machine without a browser: the person opens
	// Prompt.URL anywhere and hands back the address the browser ended on
	// with SignIn.Paste.
	SignInPaste = oauth.ModePaste
)

// DefaultSignInTimeout is how long a sign-in waits for the person unless
// told otherwise.
const DefaultSignInTimeout = oauth.DefaultLoginTimeout

// SignInOptions tune StartSignIn.
type SignInOptions struct {
	Mode    SignInMode    // default SignInBrowser
	Timeout time.Duration // how long to wait for the person (default DefaultSignInTimeout)
	// OnRefused is told, from another goroutine, of each request to the
	// sign-in's listener on 127.0.0.1 refused for a wrong 'state': not
	// from this sign-in's browser (a stray or forged link). The sign-in
	// goes on waiting for the real one; each is also logged.
	OnRefused func(msg string)
}

// SignInPrompt is what the person must do (URL, device code…), for the
// face to show; Write prints it as the CLI does.
type SignInPrompt = oauth.Prompt

// SignIn is a sign-in waiting for a person, running in the background of
// this process. Wait for it, poll it (Result), or Cancel it.
type SignIn struct {
	Account string
	Prompt  SignInPrompt

	flow   *oauth.Flow
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	res    *SignInResult
	err    error
}

// SignInResult is who signed in.
type SignInResult struct {
	Account  string
	Identity string   // who signed in ("" when the provider did not say)
	Expected string   // the account's From address
	Mismatch bool     // Identity is known and is not Expected: mail will likely be refused
	Scopes   []string // granted
	Expiry   time.Time
	// NoRefreshToken: the provider gave none, so a new sign-in is needed
	// when the access token expires (at Expiry).
	NoRefreshToken bool
	Notes          []string // things worth saying (who signed in could not be learnt…)
}

// StartSignIn starts signing an OAuth account in and returns as soon as a
// person can act: sig.Prompt says what they must do (SignInLink: open
// Prompt.URL). A listener on 127.0.0.1 — or the device-code poll, or
// Paste — finishes it in the background; the tokens are stored then.
// Only one sign-in per account runs at a time: a second start is a
// *BusyError (PendingSignIn finds the first). The sign-in outlives ctx;
// Cancel or Close ends it.
func (s *Service) StartSignIn(ctx context.Context, name string, opt SignInOptions) (*SignIn, error) {
	a, err := s.oauthAccount(ctx, name)
	if err != nil {
		return nil, err
	}
	cfg, err := s.credentialsConfig(ctx, a.Credentials)
	if err != nil {
		return nil, err
	}
	if a.SendsVia().API() {
		cfg = cfg.WithAPIScope() // one sign-in consents to the API too
	}
	sec, err := s.secrets()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if _, busy := s.signIns[name]; busy {
		s.mu.Unlock()
		return nil, &BusyError{Kind: KindSignIn, Name: name, Message: fmt.Sprintf("a sign-in of account %s is already waiting for a person: finish or cancel it first", name)}
	}
	bg, cancel := context.WithCancel(s.bg)
	sig := &SignIn{Account: name, cancel: cancel, done: make(chan struct{})}
	s.signIns[name] = sig
	s.mu.Unlock()

	flow, err := oauth.Begin(ctx, oauth.LoginOptions{
		Account: a.Name, Config: cfg, Mode: opt.Mode, Timeout: opt.Timeout, Expected: a.From, Store: sec,
		OpenBrowser: s.opts.OpenBrowser, HTTPClient: s.opts.HTTPClient, Now: s.opts.Clock,
		OnRefused: func(msg string) {
			s.log.Warn("sign-in: "+msg, "account", a.Name)
			if opt.OnRefused != nil {
				opt.OnRefused(msg)
			}
		},
	})
	if err != nil {
		s.endSignIn(sig)
		cancel()
		return nil, fmt.Errorf("sign-in of account %s: %w", a.Name, err)
	}
	sig.flow, sig.Prompt = flow, flow.Prompt()
	if err := s.background(); err != nil {
		flow.Close()
		s.endSignIn(sig)
		cancel()
		return nil, err
	}
	go func() {
		defer s.wg.Done()
		defer cancel()
		lr, err := flow.Wait(bg)
		s.endSignIn(sig)
		if err != nil {
			sig.finish(nil, fmt.Errorf("sign-in of account %s: %w", a.Name, err))
			return
		}
		sig.finish(&SignInResult{Account: a.Name, Identity: lr.Identity, Expected: a.From, Mismatch: lr.Mismatch,
			Scopes: lr.Scopes, Expiry: lr.Expiry, NoRefreshToken: !lr.HasRefreshToken, Notes: lr.Notes}, nil)
	}()
	return sig, nil
}

func (s *Service) endSignIn(sig *SignIn) {
	s.mu.Lock()
	if s.signIns[sig.Account] == sig {
		delete(s.signIns, sig.Account)
	}
	s.mu.Unlock()
}

// PendingSignIn is the account's sign-in waiting for a person in this
// process, or nil.
func (s *Service) PendingSignIn(name string) *SignIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signIns[name]
}

func (sig *SignIn) finish(res *SignInResult, err error) {
	sig.once.Do(func() {
		sig.res, sig.err = res, err
		close(sig.done)
	})
}

// Done is closed when the sign-in has finished, one way or another.
func (sig *SignIn) Done() <-chan struct{} { return sig.done }

// Result reports the outcome once Done is closed (finished false before).
// The error matches ErrSignInTimeout, ErrSignInCancelled or
// *AccessDeniedError where it is one of those.
func (sig *SignIn) Result() (res *SignInResult, err error, finished bool) {
	select {
	case <-sig.done:
		return sig.res, sig.err, true
	default:
		return nil, nil, false
	}
}

// Wait waits for the sign-in to finish. When ctx ends first the sign-in
// is cancelled (Ctrl-C at the CLI).
func (sig *SignIn) Wait(ctx context.Context) (*SignInResult, error) {
	select {
	case <-sig.done:
	case <-ctx.Done():
		sig.Cancel()
		<-sig.done
	}
	return sig.res, sig.err
}

// Cancel stops the sign-in; Wait then returns an error matching
// ErrSignInCancelled (unless it had just finished).
func (sig *SignIn) Cancel() { sig.cancel() }

// Paste hands a SignInPaste sign-in the address the browser ended on.
func (sig *SignIn) Paste(text string) error { return sig.flow.Paste(text) }

// SignOutResult says what signing out did.
type SignOutResult struct {
	HadSignIn bool // tokens were stored (and are now deleted)
	// Revoked: the provider revoked the grant. Otherwise RevokeErr says
	// why not: ErrNoRevocation (Microsoft offers apps none), or the
	// failure; the tokens are deleted here either way.
	Revoked   bool
	RevokeErr error
	// ConfigErr: the credentials could not be read, so nothing was asked
	// of the provider.
	ConfigErr error
	Provider  provider.Kind
	// ReadErr is set when the stored sign-in could not be read: it was
	// deleted without revoking.
	ReadErr error
}

// ErrNoRevocation: the provider offers apps no way to revoke a token; the
// refresh token stays valid there until it expires.
var ErrNoRevocation = oauth.ErrNoRevocation

// SignOut deletes an OAuth account's tokens from this computer and
// revokes them at the provider where it allows.
func (s *Service) SignOut(ctx context.Context, name string) (*SignOutResult, error) {
	a, err := s.oauthAccount(ctx, name)
	if err != nil {
		return nil, err
	}
	sec, err := s.secrets()
	if err != nil {
		return nil, err
	}
	unlock, err := sec.Lock(ctx, oauth.SecretName(a.Name))
	if err != nil {
		return nil, err
	}
	defer unlock()
	res := &SignOutResult{}
	t, err := oauth.LoadToken(sec, a.Name)
	if errors.Is(err, oauth.ErrNoToken) {
		return res, nil
	}
	res.HadSignIn = true
	if err == nil {
		s.revoke(ctx, a.Credentials, t, res)
	} else {
		res.ReadErr = err
	}
	if err := oauth.DeleteToken(sec, a.Name); err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) revoke(ctx context.Context, creds string, t *oauth.Token, res *SignOutResult) {
	cfg, err := s.credentialsConfig(ctx, creds)
	if err != nil {
		res.ConfigErr = err
		return
	}
	res.Provider = cfg.Provider
	tok := t.RefreshToken
	if tok == "" {
		tok = t.AccessToken
	}
	if tok == "" {
		return
	}
	if err := oauth.Revoke(ctx, s.opts.HTTPClient, cfg, tok); err != nil {
		res.RevokeErr = err
		return
	}
	res.Revoked = true
}
